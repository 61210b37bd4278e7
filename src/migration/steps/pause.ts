import { refuseWhileActiveOnTarget, sourcePresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';

/** Normally already done by whoever caught the reboot event; here it is made sure of. */
export const pause: Step = {
  name: 'pause',
  enter: 'cutover',
  async check(ctx) {
    const presence = await sourcePresence(ctx);
    if (presence === 'paused') return skip('the guest is paused');
    if (ctx.job.converged && (presence === 'shutoff' || presence === 'missing')) {
      return skip('past the pause: the source stopped after converging');
    }
    if (presence === 'running') return ok;
    return blocked(`the VM is ${presence} on ${ctx.record.sourceHost}`);
  },
  async run(ctx) {
    await (await ctx.source()).suspendDomain(ctx.domain);
    return {};
  },
  async undo(ctx) {
    if ((await sourcePresence(ctx)) !== 'paused') return;
    await refuseWhileActiveOnTarget(ctx, 'resuming');
    await (await ctx.source()).resumeDomain(ctx.domain);
  },
};

import { sourcePresence, targetPresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import type { MarkMilestone } from './timeline.js';

/** Never two copies: the target starts only while the source has no QEMU. */
export function startTarget(mark: MarkMilestone): Step {
  return {
    name: 'start-target',
    async check(ctx) {
      const [target, source] = await Promise.all([targetPresence(ctx), sourcePresence(ctx)]);
      if (target === 'running') return skip('running on the target');
      if (source !== 'shutoff' && source !== 'missing') return blocked(`the VM is ${source} on the source`);
      if (!ctx.job.converged) return blocked('the mirror never ended converged');
      return ok;
    },
    async run(ctx) {
      await (await ctx.targetClient()).createDomain(ctx.domain);
      await mark(ctx, 'started');
      return {};
    },
  };
}

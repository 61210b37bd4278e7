import { setTimeout as sleep } from 'node:timers/promises';
import { endMirrorWithoutPivot, mirrorProgress, sumProgress } from '../../sync/block-copy.js';
import { sourcePresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { mirroredDisks } from '../types.js';
import type { MarkMilestone } from './timeline.js';

/** While paused: wait for no dirty data, then end each job without pivot. */
export function converge(mark: MarkMilestone): Step {
  return {
    name: 'converge',
    async check(ctx) {
      const presence = await sourcePresence(ctx);
      if (ctx.job.converged && presence !== 'running') return skip('the mirror already ended converged');
      if (presence !== 'paused') return blocked(`the guest must be paused to converge, it is ${presence}`);
      return ok;
    },
    async run(ctx) {
      const client = await ctx.source();
      const until = Date.now() + ctx.settings.convergeTimeoutMs;
      for (;;) {
        const progress = await Promise.all(
          mirroredDisks(ctx.job).map((d) => mirrorProgress(client, ctx.domain, d.target)),
        );
        const lost = progress.find((p) => !p.present);
        if (lost) throw new Error(`the block job of ${lost.disk} is gone: the target copy is not complete`);
        if (progress.length === 0 || sumProgress(progress).converged) break;
        if (Date.now() > until) throw new Error('the mirror did not converge in time');
        await sleep(20);
      }
      for (const disk of mirroredDisks(ctx.job)) await endMirrorWithoutPivot(client, ctx.domain, disk.target);
      if ((await sourcePresence(ctx)) !== 'paused')
        throw new Error('the guest left the paused state while converging');
      await ctx.patchJob({ converged: true });
      await mark(ctx, 'converged');
      return {};
    },
  };
}

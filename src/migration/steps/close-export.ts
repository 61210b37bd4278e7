import { closeExport as closeNbdExport, observeExport } from '../../sync/nbd-export.js';
import { ok, type Step, skip } from '../engine/step.js';
import type { MarkMilestone } from './timeline.js';

/** qemu-nbd on the target flushes and exits: the image is complete and nobody else writes to it. */
export function closeExport(mark: MarkMilestone): Step {
  return {
    name: 'close-export',
    enter: 'switching',
    async check(ctx) {
      const shell = await ctx.hosts.ssh(ctx.record.targetHost);
      for (const nbd of ctx.job.exports) if ((await observeExport(shell, nbd)) === 'alive') return ok;
      return skip('no export is alive');
    },
    async run(ctx) {
      const shell = await ctx.hosts.ssh(ctx.record.targetHost);
      for (const nbd of ctx.job.exports) await closeNbdExport(shell, nbd);
      await mark(ctx, 'exportClosed');
      return {};
    },
  };
}

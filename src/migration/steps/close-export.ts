import { closeExport as closeNbdExport, observeExport, stopObservedExport } from '../../sync/nbd-export.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import type { MarkMilestone } from './timeline.js';

/**
 * The pids of the exports this cutover run saw alive and its own, while the mirror converged: close-export then
 * signals them without observing again, a round trip less on the cutover's path. Held in memory for one run only: a
 * run resumed after a crash observes anew.
 */
export type ExportsSeenAlive = Set<number>;

/** Read-only: which exports are alive and ours, observed beside the convergence (see ExportsSeenAlive). */
export function observeExports(seen: ExportsSeenAlive): Step {
  return {
    name: 'observe-exports',
    async check(ctx) {
      if (ctx.job.exports.length === 0) return skip('no export');
      return ok;
    },
    async run(ctx) {
      const shell = await ctx.hosts.ssh(ctx.record.targetHost);
      const states = await Promise.all(ctx.job.exports.map((nbd) => observeExport(shell, nbd)));
      ctx.job.exports.forEach((nbd, i) => {
        if (states[i] === 'alive') seen.add(nbd.pid);
      });
      return { alive: seen.size };
    },
  };
}

/** qemu-nbd on the target flushes and exits: the image is complete and nobody else writes to it. */
export function closeExport(mark: MarkMilestone, seen: ExportsSeenAlive = new Set()): Step {
  return {
    name: 'close-export',
    // Which exports still run was observed by observe-exports, or is observed by closeNbdExport (one round trip
    // each, side by side): the check adds none to the cutover's path.
    async check(ctx) {
      if (ctx.job.exports.length === 0) return skip('no export');
      if (!ctx.job.converged)
        return blocked('the mirror has not ended converged: the source may still write');
      return ok;
    },
    async run(ctx) {
      const shell = await ctx.hosts.ssh(ctx.record.targetHost);
      await Promise.all(
        ctx.job.exports.map((nbd) =>
          seen.has(nbd.pid) ? stopObservedExport(shell, nbd) : closeNbdExport(shell, nbd),
        ),
      );
      await mark(ctx, 'exportClosed');
      return {};
    },
  };
}

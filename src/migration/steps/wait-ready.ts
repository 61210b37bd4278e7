import { setTimeout as sleep } from 'node:timers/promises';
import { formatBytes } from '../../placement/units.js';
import { mirrorProgress, sumProgress } from '../../sync/block-copy.js';
import { blocked, ok, type Step } from '../engine/step.js';

/** Waits until every job has copied everything once (ready); the guest keeps running meanwhile. */
export const waitReady: Step = {
  name: 'wait-ready',
  async check(ctx) {
    const client = await ctx.source();
    const progress = await Promise.all(
      ctx.job.disks.map((d) => mirrorProgress(client, ctx.domain, d.target)),
    );
    if (progress.some((p) => !p.present)) return blocked('a disk has no block job');
    return ok;
  },
  async run(ctx) {
    const client = await ctx.source();
    let lastSaved = 0;
    const started = Date.now();
    for (;;) {
      const progress = await Promise.all(
        ctx.job.disks.map((d) => mirrorProgress(client, ctx.domain, d.target)),
      );
      const lost = progress.find((p) => !p.present);
      if (lost) throw new Error(`the block job of ${lost.disk} ended before it was ready`);
      const sum = sumProgress(progress);
      if (Date.now() - lastSaved > 2000 || sum.converged) {
        lastSaved = Date.now();
        await ctx.patchJob({ progress: { cur: sum.cur, end: sum.end, at: new Date().toISOString() } });
        ctx.note('wait-ready', `${formatBytes(sum.cur)} / ${formatBytes(sum.end)}`);
      }
      if (sum.converged) return { bytes: sum.end, ms: Date.now() - started };
      await sleep(200);
    }
  },
};

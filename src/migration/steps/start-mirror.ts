import { abandonMirror, mirrorProgress, startMirror } from '../../sync/block-copy.js';
import { domainPresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { aliveExports } from './prepare-target.js';

/** Background block copy of every local disk into its export. */
export const startMirrorStep: Step = {
  name: 'start-mirror',
  enter: 'mirroring',
  async check(ctx) {
    const client = await ctx.source();
    const presence = await domainPresence(client, ctx.record.vmUuid);
    if (presence !== 'running' && presence !== 'paused')
      return blocked(`the VM is ${presence} on the source`);
    if ((await aliveExports(ctx)).length !== ctx.job.disks.length)
      return blocked('not every export is alive');
    const present = await Promise.all(ctx.job.disks.map((d) => mirrorProgress(client, ctx.domain, d.target)));
    if (present.every((p) => p.present)) return skip('every disk already has its block job');
    return ok;
  },
  async run(ctx) {
    const client = await ctx.source();
    for (const nbd of ctx.job.exports) {
      if ((await mirrorProgress(client, ctx.domain, nbd.disk)).present) continue;
      await startMirror(client, ctx.domain, nbd, {
        mode: ctx.job.mode,
        ...(ctx.job.bandwidthBytesPerSec ? { bandwidthBytesPerSec: ctx.job.bandwidthBytesPerSec } : {}),
      });
    }
    await ctx.patchJob({ converged: false });
    return { mode: ctx.job.mode };
  },
  async undo(ctx) {
    const client = await ctx.source();
    const presence = await domainPresence(client, ctx.record.vmUuid);
    if (presence !== 'running' && presence !== 'paused') return;
    for (const disk of ctx.job.disks) await abandonMirror(client, ctx.domain, disk.target);
  },
};

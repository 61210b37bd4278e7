import { abandonMirror, copyOnceArgv, mirrorProgress, startMirror } from '../../sync/block-copy.js';
import { cutConnectionsTo } from '../../sync/export-connections.js';
import { mustExec } from '../../sync/remote.js';
import { domainPresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { mirroredDisks } from '../types.js';
import { aliveExports } from './prepare-target.js';

/** How long a once-copy of read-only content may take (qemu-img convert over NBD). */
const COPY_ONCE_TIMEOUT_MS = 6 * 3600_000;

/**
 * Background block copy of every writable disk into its export; read-only content (cdrom media, read-only disks,
 * which libvirt refuses to mirror) is copied once, from the source, by qemu-img.
 */
export const startMirrorStep: Step = {
  name: 'start-mirror',
  enter: 'mirroring',
  async check(ctx) {
    const client = await ctx.source();
    const presence = await domainPresence(client, ctx.domain);
    if (presence !== 'running' && presence !== 'paused')
      return blocked(`the VM is ${presence} on the source`);
    if ((await aliveExports(ctx)).length !== ctx.job.disks.length)
      return blocked('not every export is alive');
    const mirrored = mirroredDisks(ctx.job);
    const present = await Promise.all(mirrored.map((d) => mirrorProgress(client, ctx.domain, d.target)));
    const copied = ctx.job.disks.every((d) => d.method !== 'once' || d.copied);
    if (copied && present.every((p) => p.present)) return skip('every disk already has its block job');
    return ok;
  },
  async run(ctx) {
    const client = await ctx.source();
    for (const nbd of ctx.job.exports) {
      const disk = ctx.job.disks.find((d) => d.target === nbd.disk);
      if (disk?.method === 'once') {
        if (disk.copied) continue;
        const shell = await ctx.hosts.ssh(ctx.record.sourceHost);
        const argv = copyOnceArgv(
          { path: disk.sourcePath, format: disk.sourceFormat ?? 'raw' },
          nbd,
          ctx.settings.certDir,
        );
        await mustExec(shell, argv, COPY_ONCE_TIMEOUT_MS);
        await ctx.patchJob({
          disks: ctx.job.disks.map((d) => (d.target === disk.target ? { ...d, copied: true } : d)),
        });
        ctx.note('start-mirror', `${nbd.disk}: read-only content copied once`);
        continue;
      }
      if ((await mirrorProgress(client, ctx.domain, nbd.disk)).present) continue;
      await startMirror(client, ctx.domain, nbd, {
        mode: ctx.job.mode,
        ...(ctx.job.bandwidthBytesPerSec ? { bandwidthBytesPerSec: ctx.job.bandwidthBytesPerSec } : {}),
      });
    }
    await ctx.patchJob({ converged: false, targetStarted: false });
    return { mode: ctx.job.mode };
  },
  async undo(ctx) {
    const client = await ctx.source();
    const presence = await domainPresence(client, ctx.domain);
    if (presence !== 'running' && presence !== 'paused') return;
    for (const disk of mirroredDisks(ctx.job)) {
      const nbd = ctx.job.exports.find((e) => e.disk === disk.target);
      // A target that vanished leaves the cancel waiting on NBD replies: cutting the connection ends it.
      const unstick = nbd
        ? async () => cutConnectionsTo(await ctx.hosts.ssh(ctx.record.sourceHost), nbd)
        : undefined;
      await abandonMirror(client, ctx.domain, disk.target, unstick ? { unstick } : {});
    }
  },
};

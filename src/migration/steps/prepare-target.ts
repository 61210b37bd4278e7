import {
  type ClaimedExport,
  closeExport,
  createExport,
  imageVirtualSize,
  observeExport,
  pidFileFor,
} from '../../sync/nbd-export.js';
import { hostClientDn } from '../../sync/tls-identity.js';
import type { NbdExport } from '../../sync/types.js';
import type { MigrationContext } from '../engine/context.js';
import { domainPresence, isActive } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import type { MigrationDisk } from '../types.js';
import { createTargetVolume, discardImage, discardUnfinished, volumeBlocker } from './target-volume.js';

export function exportNameFor(migrationId: string, disk: string): string {
  return `rehome-${migrationId.slice(0, 8)}-${disk}`;
}

export async function aliveExports(ctx: MigrationContext): Promise<NbdExport[]> {
  const shell = await ctx.hosts.ssh(ctx.record.targetHost);
  const alive: NbdExport[] = [];
  for (const nbd of ctx.job.exports) if ((await observeExport(shell, nbd)) === 'alive') alive.push(nbd);
  return alive;
}

/** Images of the local disks' size on the target, each exported over NBD with TLS. */
export const prepareTarget: Step = {
  name: 'prepare-target',
  enter: 'preparing',
  async check(ctx) {
    if (ctx.record.sourceHost === ctx.record.targetHost) return blocked('the target is the source host');
    const presence = await domainPresence(await ctx.source(), ctx.domain);
    if (presence !== 'running')
      return blocked(`the VM is ${presence} on ${ctx.record.sourceHost}, not running`);
    const alive = await aliveExports(ctx);
    if (ctx.job.disks.length > 0 && alive.length === ctx.job.disks.length)
      return skip('every export is alive');
    // A volume to create must not exist yet (unless this migration claimed or made it).
    const ours = new Set([
      ...ctx.job.exports.map((nbd) => nbd.disk),
      ...(ctx.job.claimedExport ? [ctx.job.claimedExport.disk] : []),
    ]);
    for (const disk of ctx.job.disks) {
      if (disk.into?.kind !== 'volume' || ours.has(disk.target)) continue;
      const blocker = await volumeBlocker(ctx, disk.into);
      if (blocker) return blocked(`${disk.target}: ${blocker}`);
    }
    return ok;
  },
  async run(ctx) {
    const sourceShell = await ctx.hosts.ssh(ctx.record.sourceHost);
    const targetShell = await ctx.hosts.ssh(ctx.record.targetHost);
    const address = await ctx.hosts.addressOf(ctx.record.targetHost);
    // Only the source's client certificate may connect to the exports (not the target's own, not a third host's).
    const allowedClientDn = await hostClientDn(sourceShell, ctx.settings.certDir);
    const alive = new Set((await aliveExports(ctx)).map((nbd) => nbd.disk));
    const exports: NbdExport[] = ctx.job.exports.filter((nbd) => alive.has(nbd.disk));
    // Dead exports of an earlier attempt: their images are stale and go.
    for (const stale of ctx.job.exports.filter((nbd) => !alive.has(nbd.disk))) {
      await closeExport(targetShell, stale);
      await discardImage(ctx, targetShell, stale);
    }
    // An export an interrupted run claimed but never journaled: whatever it left is ours, and goes.
    const unfinished = ctx.job.claimedExport;
    if (unfinished) await discardUnfinished(ctx, targetShell, unfinished);
    // Always the full list: a journal with fewer disks would let a re-run skip the missing ones.
    const disks = [...ctx.job.disks];
    for (const [index, disk] of ctx.job.disks.entries()) {
      const virtualSizeBytes =
        disk.virtualSizeBytes || (await imageVirtualSize(sourceShell, disk.sourcePath));
      disks[index] = { ...disk, virtualSizeBytes };
      if (alive.has(disk.target)) continue;
      const exportName = exportNameFor(ctx.record.id, disk.target);
      const volume =
        disk.into?.kind === 'volume' ? { pool: disk.into.pool, name: disk.into.name } : undefined;
      const claimed: ClaimedExport & { volume?: typeof volume } = {
        disk: disk.target,
        host: ctx.record.targetHost,
        imagePath: disk.targetPath,
        exportName,
        pidFile: pidFileFor(ctx.settings.runDir, exportName),
        ...(volume ? { volume } : {}),
      };
      if (volume) {
        // Journaled before libvirt creates it: an interrupted run's volume is known to be ours. If the creation
        // fails (the name was taken meanwhile: libvirt never overwrites), the claim goes, so no undo deletes a volume
        // that is not ours.
        await ctx.patchJob({ disks, exports, claimedExport: claimed });
        let path: string;
        try {
          path = await createTargetVolume(
            ctx,
            disk.into as Extract<MigrationDisk['into'], { kind: 'volume' }>,
            virtualSizeBytes,
          );
        } catch (err) {
          await ctx.patchJob({ claimedExport: undefined });
          throw err;
        }
        disks[index] = { ...(disks[index] as MigrationDisk), targetPath: path };
        claimed.imagePath = path;
      }
      exports.push(
        await createExport(
          targetShell,
          {
            host: ctx.record.targetHost,
            disk: disk.target,
            bindAddress: address,
            imagePath: claimed.imagePath,
            virtualSizeBytes,
            format: disk.format,
            ...(volume ? { volume } : {}),
            exportName,
            certDir: ctx.settings.certDir,
            allowedClientDn,
            runDir: ctx.settings.runDir,
            avoidPorts: exports.map((nbd) => nbd.port),
          },
          () => ctx.patchJob({ disks, exports, claimedExport: claimed }),
        ),
      );
      await ctx.patchJob({ disks, exports, claimedExport: undefined });
    }
    await ctx.patchJob({ disks, exports });
    return { exports: exports.map((nbd) => `${nbd.address}:${nbd.port}/${nbd.exportName} pid ${nbd.pid}`) };
  },
  async undo(ctx) {
    const unfinished = ctx.job.claimedExport;
    if (ctx.job.exports.length === 0 && !unfinished) return;
    const target = await domainPresence(await ctx.targetClient(), ctx.domain);
    if (isActive(target)) throw new Error(`the VM is ${target} on ${ctx.record.targetHost}: its image stays`);
    const shell = await ctx.hosts.ssh(ctx.record.targetHost);
    for (const nbd of ctx.job.exports) {
      await closeExport(shell, nbd);
      await discardImage(ctx, shell, nbd);
    }
    if (unfinished) await discardUnfinished(ctx, shell, unfinished);
  },
};

import { posix } from 'node:path';
import { DomainXmlFlags } from '../libvirt/protocol/constants.js';
import { formatBytes } from '../placement/units.js';
import { abandonMirror, mirrorProgress, startMirror, sumProgress } from '../sync/block-copy.js';
import {
  closeExport,
  createExport,
  imageVirtualSize,
  observeExport,
  removeImage,
} from '../sync/nbd-export.js';
import type { NbdExport } from '../sync/types.js';
import type { MigrationContext } from './context.js';
import { domainPresence, isActive } from './observe.js';
import { blocked, ok, type Step, skip } from './step.js';

export function exportNameFor(migrationId: string, disk: string): string {
  return `rehome-${migrationId.slice(0, 8)}-${disk}`;
}

export function targetImagePath(imageDir: string, vmName: string, disk: string): string {
  return posix.join(imageDir, `${vmName}-${disk}.qcow2`);
}

async function aliveExports(ctx: MigrationContext): Promise<NbdExport[]> {
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
    const presence = await domainPresence(await ctx.source(), ctx.record.vmUuid);
    if (presence !== 'running')
      return blocked(`the VM is ${presence} on ${ctx.record.sourceHost}, not running`);
    const alive = await aliveExports(ctx);
    if (ctx.job.disks.length > 0 && alive.length === ctx.job.disks.length)
      return skip('every export is alive');
    return ok;
  },
  async run(ctx) {
    const sourceShell = await ctx.hosts.ssh(ctx.record.sourceHost);
    const targetShell = await ctx.hosts.ssh(ctx.record.targetHost);
    const address = await ctx.hosts.addressOf(ctx.record.targetHost);
    const alive = new Set((await aliveExports(ctx)).map((nbd) => nbd.disk));
    const exports: NbdExport[] = ctx.job.exports.filter((nbd) => alive.has(nbd.disk));
    // Dead exports of an earlier attempt: their images are stale and go.
    for (const stale of ctx.job.exports.filter((nbd) => !alive.has(nbd.disk))) {
      await closeExport(targetShell, stale);
      await removeImage(targetShell, stale);
    }
    const disks = [];
    for (const disk of ctx.job.disks) {
      const virtualSize = disk.virtualSize || (await imageVirtualSize(sourceShell, disk.sourcePath));
      disks.push({ ...disk, virtualSize });
      if (alive.has(disk.target)) continue;
      exports.push(
        await createExport(targetShell, {
          host: ctx.record.targetHost,
          disk: disk.target,
          bindAddress: address,
          imagePath: disk.targetPath,
          virtualSizeBytes: virtualSize,
          exportName: exportNameFor(ctx.record.id, disk.target),
          certDir: ctx.settings.certDir,
          runDir: ctx.settings.runDir,
          avoidPorts: exports.map((nbd) => nbd.port),
        }),
      );
      await ctx.patchJob({ disks, exports }, { export: toExportDetails(exports[0]) });
    }
    await ctx.patchJob({ disks, exports }, { export: toExportDetails(exports[0]) });
    return { exports: exports.map((nbd) => `${nbd.address}:${nbd.port}/${nbd.exportName} pid ${nbd.pid}`) };
  },
  async undo(ctx) {
    if (ctx.job.exports.length === 0) return;
    const target = await domainPresence(await ctx.targetClient(), ctx.record.vmUuid);
    if (isActive(target)) throw new Error(`the VM is ${target} on ${ctx.record.targetHost}: its image stays`);
    const shell = await ctx.hosts.ssh(ctx.record.targetHost);
    for (const nbd of ctx.job.exports) {
      await closeExport(shell, nbd);
      await removeImage(shell, nbd);
    }
  },
};

function toExportDetails(nbd: NbdExport | undefined) {
  if (!nbd) return null;
  return {
    imagePath: nbd.imagePath,
    nbdHost: nbd.address,
    nbdPort: nbd.port,
    exportName: nbd.exportName,
    pid: nbd.pid,
  };
}

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
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  },
};

/** Keeps the source's inactive definition: the target's is made from it at the cutover. */
export const arm: Step = {
  name: 'arm',
  async check() {
    return ok;
  },
  async run(ctx) {
    const client = await ctx.source();
    const inactiveXml = await client.getDomainXml(ctx.domain, DomainXmlFlags.inactive);
    await ctx.patchJob({ inactiveXml });
    await ctx.moveTo('armed');
    return {};
  },
};

export const PREPARE_STEPS: readonly Step[] = [prepareTarget, startMirrorStep, waitReady, arm];

import { RehomeError } from '../cli/errors.js';
import { DomainXml } from '../libvirt/domain-xml.js';
import type { DiskJob } from '../store/types.js';
import { resolveDeadline } from './deadline.js';
import { runSteps, StepFailedError, undoSteps } from './engine.js';
import { contextFor, locateVm } from './locate.js';
import { withLock } from './lock.js';
import type { Runtime } from './runtime.js';
import { PREPARE_STEPS, targetImagePath } from './steps-prepare.js';
import type { MigrationJob, ProgressSink } from './types.js';

export interface MigrateOptions {
  vm: string;
  to?: string;
  deadline?: string;
  syncWrites?: boolean;
  bandwidthBytesPerSec?: number;
}

export interface MigrateResult {
  id: string;
  vm: string;
  uuid: string;
  source: string;
  target: string;
  phase: string;
  deadline: string | null;
  mode: string;
  disks: { disk: string; sourcePath: string; targetPath: string; bytes: number }[];
  exports: { disk: string; address: string; port: number; exportName: string }[];
  readyAfterMs: number;
}

/** Plans, prepares the target, mirrors until ready and arms. Rolls back if any of it fails. */
export async function migrate(
  rt: Runtime,
  options: MigrateOptions,
  progress: ProgressSink,
): Promise<MigrateResult> {
  if (!options.to) {
    throw new RehomeError('Choosing a target automatically is not available yet: pass --to HOST', 'usage', [
      `rehome migrate ${options.vm} --to HOST`,
      'rehome hosts list',
    ]);
  }
  const target = rt.host(options.to);
  const deadline = options.deadline
    ? resolveDeadline(options.deadline, new Date(), rt.config.notify?.maxDeadlineDays)
    : null;
  const { host: sourceHost, domain } = await locateVm(rt, options.vm);
  if (sourceHost === target.name)
    throw new RehomeError(`${options.vm} already runs on ${target.name}`, 'usage');
  const source = await rt.hosts.libvirt(sourceHost);
  const xml = DomainXml.parse(await source.getDomainXml(domain, 0));
  const classified = xml.classifyDisks({ sharedPrefixes: rt.config.storage?.sharedPrefixes ?? [] });
  const unsupported = classified.filter((disk) => disk.class === 'unsupported');
  if (unsupported.length > 0) {
    throw new RehomeError(
      `${options.vm} cannot be moved: ${unsupported.map((d) => `${d.targetDev}: ${d.reason}`).join('; ')}`,
      'migrationFailed',
    );
  }
  const disks: DiskJob[] = classified
    .filter((disk) => disk.class === 'local' && disk.path)
    .map((disk) => ({
      target: disk.targetDev,
      sourcePath: disk.path as string,
      targetPath: targetImagePath(target.imageDir, xml.name, disk.targetDev),
      format: 'qcow2',
      virtualSize: 0,
    }));
  const job: MigrationJob = {
    disks,
    exports: [],
    mode: options.syncWrites ? 'write-blocking' : 'background',
    ...(options.bandwidthBytesPerSec ? { bandwidthBytesPerSec: options.bandwidthBytesPerSec } : {}),
  };
  const started = Date.now();
  return withLock(rt, domain.uuid, `migrate ${options.vm}`, async () => {
    const record = await rt.store.createMigration({
      vmName: xml.name,
      vmUuid: domain.uuid,
      sourceHost,
      targetHost: target.name,
      deadline,
      owner: xml.owner ?? null,
      job,
    });
    const ctx = contextFor(rt, record, progress);
    try {
      await runSteps(ctx, PREPARE_STEPS);
    } catch (err) {
      const reason = (err as Error).message;
      await undoSteps(ctx, PREPARE_STEPS, 'rolling-back', reason);
      throw new RehomeError(
        `Migration of ${options.vm} rolled back: ${reason}`,
        'migrationFailed',
        [
          err instanceof StepFailedError ? `Step ${err.step} failed; see rehome status ${options.vm}` : '',
        ].filter(Boolean),
      );
    }
    ctx.notices?.send(ctx.record, 'scheduled');
    const final = ctx.job;
    return {
      id: ctx.record.id,
      vm: ctx.record.vmName,
      uuid: ctx.record.vmUuid,
      source: sourceHost,
      target: target.name,
      phase: ctx.record.phase,
      deadline,
      mode: final.mode,
      disks: final.disks.map((d) => ({
        disk: d.target,
        sourcePath: d.sourcePath,
        targetPath: d.targetPath,
        bytes: d.virtualSize,
      })),
      exports: final.exports.map((e) => ({
        disk: e.disk,
        address: e.address,
        port: e.port,
        exportName: e.exportName,
      })),
      readyAfterMs: Date.now() - started,
    };
  });
}

/** `512K`, `50M`, `1G` (binary units) or plain bytes, per second. */
export function parseRate(value: string): number {
  const match = /^(\d+)([KMG])?$/i.exec(value.trim());
  if (!match)
    throw new RehomeError(`Bad bandwidth ${JSON.stringify(value)}: use e.g. 512K, 50M or 1G`, 'usage');
  const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase() as 'k'] ?? 1;
  return Number(match[1]) * unit;
}

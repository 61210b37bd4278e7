import { RehomeError } from '../../errors.js';
import { DomainXml } from '../../libvirt/domain-xml.js';
import { DomainXmlFlags } from '../../libvirt/protocol/constants.js';
import type { TargetChoice } from '../../placement/types.js';
import type { DiskJob } from '../../store/types.js';
import type { NbdExport } from '../../sync/types.js';
import { runSteps, StepFailedError, undoSteps } from '../engine/runner.js';
import type { Runtime } from '../runtime.js';
import { PREPARE_STEPS } from '../steps/prepare.js';
import { targetImagePath } from '../steps/prepare-target.js';
import type { ChooseTarget, MigrationJob, ProgressSink } from '../types.js';
import { type ResolvedDeadline, resolveDeadline } from './deadline.js';
import { signalGuest } from './guest-signal.js';
import { contextFor, locateVm } from './locate.js';
import { withLock } from './lock.js';

export interface MigrateOptions {
  vm: string;
  /** The target; without it, `chooseTarget` picks one. */
  to?: string;
  chooseTarget?: ChooseTarget;
  /** As typed; without it, the operator's limit (notify.maxDeadlineDays from now). */
  deadline?: string;
  syncWrites?: boolean;
  bandwidthBytesPerSec?: number;
}

/** How the target was chosen: named by --to, or by placement with its reason. */
export interface ChosenTarget extends TargetChoice {
  by: 'operator' | 'placement';
}

export interface MigrateResult {
  id: string;
  vm: string;
  uuid: string;
  source: string;
  target: string;
  targetChoice: Omit<ChosenTarget, 'target'>;
  phase: string;
  deadline: string;
  /** `given` by --deadline, or the `operator-limit` used when none was given. */
  deadlineSource: ResolvedDeadline['source'];
  mode: string;
  /** `bytes` is the disk's virtual size (the name `--json` has always used). */
  disks: { disk: string; sourcePath: string; targetPath: string; bytes: number }[];
  exports: Pick<NbdExport, 'disk' | 'address' | 'port' | 'exportName'>[];
  readyAfterMs: number;
}

/** Plans, prepares the target, mirrors until ready and arms. Rolls back if any of it fails. */
export async function migrate(
  rt: Runtime,
  options: MigrateOptions,
  progress: ProgressSink,
): Promise<MigrateResult> {
  const { deadline, source: deadlineSource } = resolveDeadline(
    options.deadline,
    new Date(),
    rt.config.notify?.maxDeadlineDays,
  );
  const { host: sourceHost, domain } = await locateVm(rt, options.vm);
  const choice = await pickTarget(
    options,
    { name: options.vm, uuid: domain.uuid, source: sourceHost },
    progress,
  );
  const target = rt.host(choice.target);
  if (sourceHost === target.name)
    throw new RehomeError(`${options.vm} already runs on ${target.name}`, 'invalid-input');
  const source = await rt.hosts.libvirt(sourceHost);
  const xml = DomainXml.parse(await source.getDomainXml(domain, DomainXmlFlags.none));
  const classified = xml.classifyDisks({ sharedPrefixes: rt.config.storage?.sharedPrefixes ?? [] });
  const unsupported = classified.filter((disk) => disk.class === 'unsupported');
  if (unsupported.length > 0) {
    throw new RehomeError(
      `${options.vm} cannot be moved: ${unsupported.map((d) => `${d.targetDev}: ${d.reason}`).join('; ')}`,
      'migration-failed',
    );
  }
  const disks: DiskJob[] = classified
    .filter((disk) => disk.class === 'local' && disk.path)
    .map((disk) => ({
      target: disk.targetDev,
      sourcePath: disk.path as string,
      targetPath: targetImagePath(target.imageDir, xml.name, disk.targetDev),
      format: 'qcow2',
      virtualSizeBytes: 0,
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
      throw new RehomeError(`Migration of ${options.vm} rolled back: ${reason}`, 'migration-failed', [], {
        subject: {
          code: 'prepare-rolled-back',
          vm: options.vm,
          ...(err instanceof StepFailedError ? { step: err.step } : {}),
        },
      });
    }
    ctx.notices?.send(ctx.record, 'scheduled');
    await signalGuest(rt, ctx, 'scheduled');
    const final = ctx.job;
    return {
      id: ctx.record.id,
      vm: ctx.record.vmName,
      uuid: ctx.record.vmUuid,
      source: sourceHost,
      target: target.name,
      targetChoice: { by: choice.by, reason: choice.reason, warnings: choice.warnings },
      phase: ctx.record.phase,
      deadline,
      deadlineSource,
      mode: final.mode,
      disks: final.disks.map((d) => ({
        disk: d.target,
        sourcePath: d.sourcePath,
        targetPath: d.targetPath,
        bytes: d.virtualSizeBytes,
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

/** --to as given, else placement's pick (reported as a progress step, since it reads every host). */
async function pickTarget(
  options: MigrateOptions,
  vm: { name: string; uuid: string; source: string },
  progress: ProgressSink,
): Promise<ChosenTarget> {
  if (options.to) return { target: options.to, by: 'operator', reason: 'named with --to', warnings: [] };
  if (!options.chooseTarget) {
    throw new RehomeError(`No target for ${vm.name}: pass --to HOST`, 'invalid-input', [], {
      subject: { code: 'no-target', vm: vm.name },
    });
  }
  progress({ vm: vm.name, step: 'place', status: 'start', message: 'reading the fleet' });
  const chosen = await options.chooseTarget(vm);
  progress({ vm: vm.name, step: 'place', status: 'done', message: chosen.reason });
  return { ...chosen, by: 'placement' };
}

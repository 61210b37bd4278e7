import { posix } from 'node:path';
import { readDiskFacts } from '../../disks/facts.js';
import { diskPolicyOptions } from '../../disks/options.js';
import { type DiskDecision, type DiskFactsForPolicy, decideDisks, refusalText } from '../../disks/policy.js';
import { RehomeError } from '../../errors.js';
import type { DiskInfo } from '../../libvirt/domain-xml.js';
import { DomainXml } from '../../libvirt/domain-xml.js';
import { DomainXmlFlags } from '../../libvirt/protocol/constants.js';
import type { TargetChoice } from '../../placement/types.js';
import type { NbdExport } from '../../sync/types.js';
import { runSteps, StepFailedError, undoSteps } from '../engine/runner.js';
import type { Runtime } from '../runtime.js';
import { PREPARE_STEPS } from '../steps/prepare.js';
import type { ChooseTarget, MigrationDisk, MigrationJob, ProgressSink } from '../types.js';
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
  /** The disk policy's decision for every disk (copy, reattach, leave-out), with its code and reason. */
  diskPolicy: DiskDecision[];
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
  // The same policy, options and facts as the inventory behind `plan drain`: the plan and the move agree.
  const facts = await readDiskFacts(source, xml.disks);
  const decisions = decideDisks(xml.name, xml.disks, diskPolicyOptions(rt.config), facts);
  if (decisions.some((d) => d.action === 'refuse')) {
    throw new RehomeError(
      `${options.vm} cannot be moved: ${refusalText(decisions)}`,
      'migration-failed',
      [
        'One disk policy decides for planning and moving alike; the storage section of the config sets its options (sharedPrefixes, sharedPools, blockPool, blockDisksInto, removableMedia).',
      ],
      {
        subject: {
          code: 'disk-refused',
          vm: options.vm,
          disks: decisions
            .filter((d) => d.action === 'refuse')
            .map((d) => ({ disk: d.target, code: d.code, reason: d.reason })),
        },
      },
    );
  }
  const disks = migrationDisks(xml.disks, decisions, facts, target.imageDir);
  const ejected = decisions.filter((d) => d.code === 'eject-removable-media').map((d) => d.target);
  const job: MigrationJob = {
    disks,
    ...(ejected.length > 0 ? { ejected } : {}),
    exports: [],
    mode: options.syncWrites ? 'write-blocking' : 'background',
    ...(options.bandwidthBytesPerSec ? { bandwidthBytesPerSec: options.bandwidthBytesPerSec } : {}),
  };
  const started = Date.now();
  return withLock(rt, domain.uuid, `migrate ${options.vm}`, async (held) => {
    const record = await rt.store.createMigration({
      vmName: xml.name,
      vmUuid: domain.uuid,
      sourceHost,
      targetHost: target.name,
      deadline,
      owner: xml.owner ?? null,
      job,
    });
    const ctx = contextFor(rt, record, progress, held);
    try {
      await runSteps(ctx, PREPARE_STEPS);
    } catch (err) {
      const reason = (err as Error).message;
      await undoSteps(ctx, PREPARE_STEPS, 'rolling-back', reason);
      throw new RehomeError(`Migration of ${options.vm} rolled back: ${reason}`, 'migration-failed', [], {
        cause: err,
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
      diskPolicy: decisions,
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

/**
 * The copies to make, from the policy's decisions. A file lands in the target's image directory under a name made of
 * validated parts; a volume's path on the target is known once prepare-target has created it.
 */
export function migrationDisks(
  infos: readonly DiskInfo[],
  decisions: readonly DiskDecision[],
  facts: ReadonlyMap<string, DiskFactsForPolicy>,
  imageDir: string,
): MigrationDisk[] {
  const disks: MigrationDisk[] = [];
  for (const [index, decision] of decisions.entries()) {
    const copy = decision.copy;
    const info = infos[index];
    if (decision.action !== 'copy' || !copy || !info) continue;
    const sourcePath = info.type === 'volume' ? facts.get(info.targetDev)?.volume?.path : info.path;
    if (!sourcePath) continue;
    disks.push({
      target: decision.target,
      sourcePath,
      targetPath: copy.into.kind === 'file' ? posix.join(imageDir, copy.into.fileName) : '',
      format: copy.into.format,
      virtualSizeBytes: 0,
      method: copy.method,
      into: copy.into,
      sourceFormat: copy.sourceFormat,
      keepOnSource: copy.keepOnSource,
      code: decision.code,
    });
  }
  return disks;
}

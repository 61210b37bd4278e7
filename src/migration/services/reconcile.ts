import { LockedError } from '../../store/errors.js';
import { ACTIVE_PHASES } from '../../store/phases.js';
import type { MigrationRecord } from '../../store/types.js';
import { abandonMirror } from '../../sync/block-copy.js';
import type { MigrationContext } from '../engine/context.js';
import { runSteps, undoSteps } from '../engine/runner.js';
import type { Runtime } from '../runtime.js';
import { arm } from '../steps/arm.js';
import { PREPARE_STEPS } from '../steps/prepare.js';
import { aliveExports } from '../steps/prepare-target.js';
import { startMirrorStep } from '../steps/start-mirror.js';
import { waitReady } from '../steps/wait-ready.js';
import { mirroredDisks, type ProgressSink } from '../types.js';
import { rebootNow, runCutover, undoSetFor } from './cutover.js';
import { contextFor } from './locate.js';
import { withLock } from './lock.js';
import { noticesFor } from './notices.js';
import { observe } from './observe.js';
import { decideRecovery, type RecoveryAction } from './recovery.js';
import { removeRetained } from './retention.js';

export interface ReconcileEntry {
  vm: string;
  id: string;
  phaseBefore: string;
  phaseAfter: string;
  action: RecoveryAction | 'busy' | 'deadline' | 'retention' | 'notices' | 'error';
  reason: string;
}

/**
 * Re-establishes a mirror: jobs into dead exports go, dead exports are recreated, then mirror, ready, armed. A job
 * into a live export is intact and stays (start-mirror skips its disk).
 */
async function remirror(ctx: MigrationContext): Promise<void> {
  const client = await ctx.source();
  const alive = new Set((await aliveExports(ctx)).map((nbd) => nbd.disk));
  for (const disk of mirroredDisks(ctx.job)) {
    if (!alive.has(disk.target)) await abandonMirror(client, ctx.domain, disk.target);
  }
  // A once-copy into a dead export is lost with it: copy again into the new one.
  await ctx.patchJob({
    disks: ctx.job.disks.map((d) =>
      d.method === 'once' && !alive.has(d.target) ? { ...d, copied: false } : d,
    ),
  });
  if (ctx.record.phase !== 'mirror-lost') await ctx.moveTo('mirror-lost');
  await ctx.patchJob({ inCutover: false, converged: false, targetStarted: false });
  await runSteps(ctx, PREPARE_STEPS);
}

async function act(ctx: MigrationContext, action: RecoveryAction, reason: string): Promise<void> {
  switch (action) {
    case 'none':
      return;
    case 'forward': {
      const outcome = await runCutover(ctx);
      if (outcome === 'failed') throw new Error(ctx.record.lastError ?? 'the cutover failed');
      return;
    }
    case 'rollback': {
      const via = ctx.record.phase === 'cancelling' ? 'cancelling' : 'rolling-back';
      await undoSteps(ctx, undoSetFor(ctx), via, reason);
      if (via === 'cancelling') ctx.notices?.send(ctx.record, 'cancelled');
      else ctx.notices?.send(ctx.record, 'rolled-back', { error: reason });
      return;
    }
    case 'rearm':
      await ctx.patchJob({ inCutover: false });
      await ctx.moveTo('armed');
      return;
    case 'resume':
      await (await ctx.source()).resumeDomain(ctx.domain);
      return;
    case 'mirror-lost':
      await ctx.moveTo('mirror-lost');
      return;
    case 'remirror':
      await remirror(ctx);
      return;
    case 'continue-prepare':
      await runSteps(
        ctx,
        ctx.record.phase === 'preparing' ? PREPARE_STEPS : [startMirrorStep, waitReady, arm],
      );
      return;
    case 'operator':
      await ctx.moveTo('failed', { lastError: reason });
      ctx.notices?.send(ctx.record, 'failed', { error: reason });
      return;
  }
}

/** One migration: observe both hosts, decide, act; under the VM's lock. */
export async function reconcileOne(
  rt: Runtime,
  record: MigrationRecord,
  progress: ProgressSink,
): Promise<ReconcileEntry> {
  const entry = { vm: record.vmName, id: record.id, phaseBefore: record.phase };
  try {
    // Look without the lock first: the usual answer is "nothing to do", and a lock held for nothing would make a
    // watcher leave a reboot of this VM alone.
    const first = contextFor(rt, record, progress);
    const glance = decideRecovery({
      ...(await observe(first)),
      phase: record.phase,
      converged: Boolean(first.job.converged),
    });
    if (glance.action === 'none')
      return { ...entry, phaseAfter: record.phase, action: 'none', reason: glance.reason };
    return await withLock(rt, record.vmUuid, 'reconcile', async (held) => {
      const fresh = (await rt.store.getMigration(record.id)) ?? record;
      const ctx = contextFor(rt, fresh, progress, held);
      const observed = await observe(ctx);
      const decision = decideRecovery({
        ...observed,
        phase: fresh.phase,
        converged: Boolean(ctx.job.converged),
      });
      if (decision.action !== 'none') {
        await ctx.audit('reconcile', 'info', {
          ...observed,
          action: decision.action,
          reason: decision.reason,
        });
        ctx.note('reconcile', `${decision.action}: ${decision.reason}`);
      }
      try {
        await act(ctx, decision.action, decision.reason);
      } catch (err) {
        return {
          ...entry,
          phaseAfter: ctx.record.phase,
          action: 'error' as const,
          reason: `${decision.action}: ${(err as Error).message}`,
        };
      }
      return { ...entry, phaseAfter: ctx.record.phase, action: decision.action, reason: decision.reason };
    });
  } catch (err) {
    if (err instanceof LockedError)
      return { ...entry, phaseAfter: record.phase, action: 'busy', reason: err.message };
    return { ...entry, phaseAfter: record.phase, action: 'error', reason: (err as Error).message };
  }
}

/** Source disks whose retention time has passed: removed when retention allows, skipped with the reason otherwise. */
async function retentionPass(
  rt: Runtime,
  record: MigrationRecord,
  now: Date,
): Promise<ReconcileEntry | undefined> {
  const result = await removeRetained(rt, record, now);
  if (!result) return undefined;
  const list = (items: { path: string; reason: string }[]) =>
    items.map((o) => o.path).join(', ') || 'nothing';
  const skipped = result.skipped.map((o) => `${o.path} (${o.reason})`).join('; ');
  return {
    vm: record.vmName,
    id: record.id,
    phaseBefore: record.phase,
    phaseAfter: record.phase,
    action: 'retention',
    reason: `removed ${list(result.removed)}${skipped ? `; kept ${skipped}` : ''}`,
  };
}

/**
 * One pass, safe to run from cron and alongside `watch`: every active migration is observed and brought forward or
 * back; deadlines that passed get their graceful reboot; retained source disks past their time are removed.
 */
export async function reconcile(
  rt: Runtime,
  progress: ProgressSink,
  options: { vm?: string; now?: Date } = {},
): Promise<ReconcileEntry[]> {
  const now = options.now ?? new Date();
  const entries: ReconcileEntry[] = [];
  const filter = options.vm ? { vm: options.vm } : {};
  for (const record of await rt.store.listMigrations({ ...filter, phase: ACTIVE_PHASES })) {
    const entry = await reconcileOne(rt, record, progress);
    entries.push(entry);
    if (entry.phaseAfter === 'armed' && record.deadline && Date.parse(record.deadline) <= now.getTime()) {
      try {
        const result = await rebootNow(rt, { vm: record.vmUuid, force: true, reason: 'deadline' }, progress);
        entries.push({
          ...entry,
          phaseBefore: 'armed',
          phaseAfter: result.phase,
          action: 'deadline',
          reason: `deadline ${record.deadline}: ${result.outcome}`,
        });
      } catch (err) {
        entries.push({
          ...entry,
          phaseBefore: 'armed',
          phaseAfter: 'armed',
          action: 'error',
          reason: `deadline: ${(err as Error).message}`,
        });
      }
    }
  }
  const notices = await ownerNotices(rt, now, filter);
  if (notices) entries.push(notices);
  for (const record of await rt.store.listMigrations({ ...filter, phase: 'done' })) {
    const entry = await retentionPass(rt, record, now).catch((err: Error) => ({
      vm: record.vmName,
      id: record.id,
      phaseBefore: 'done',
      phaseAfter: 'done',
      action: 'error' as const,
      reason: err.message,
    }));
    if (entry) entries.push(entry);
  }
  return entries;
}

/** Reminders now due, and failed deliveries whose backoff has passed. Never throws: notices never fail a pass. */
async function ownerNotices(
  rt: Runtime,
  now: Date,
  filter: { vm?: string },
): Promise<ReconcileEntry | undefined> {
  const notices = noticesFor(rt);
  if (!notices) return undefined;
  try {
    const reminders = await notices.remind(await rt.store.listMigrations({ ...filter, phase: 'armed' }));
    const retried = await notices.retry();
    await notices.flush();
    if (reminders === 0 && !retried?.sent && !retried?.retrying && !retried?.abandoned) return undefined;
    const reason = `reminders ${reminders}; retried deliveries: ${retried?.sent ?? 0} sent, ${retried?.retrying ?? 0} to retry, ${retried?.abandoned ?? 0} given up`;
    return { vm: '-', id: '-', phaseBefore: '-', phaseAfter: '-', action: 'notices', reason };
  } catch (err) {
    return {
      vm: '-',
      id: '-',
      phaseBefore: '-',
      phaseAfter: '-',
      action: 'error',
      reason: `notices at ${now.toISOString()}: ${(err as Error).message}`,
    };
  }
}

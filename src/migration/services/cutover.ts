import { RehomeError } from '../../errors.js';
import { DomainEventId, ShutdownMode } from '../../libvirt/protocol/constants.js';
import { LockLostError } from '../../store/errors.js';
import type { Phase } from '../../store/phases.js';
import type { MigrationContext } from '../engine/context.js';
import { isActive, targetPresence } from '../engine/presence.js';
import { runSteps, StepBlockedError, StepFailedError, undoSteps } from '../engine/runner.js';
import { flattenSteps, type Step } from '../engine/step.js';
import type { Runtime } from '../runtime.js';
import { type CutoverRun, cutoverSteps, POINT_OF_NO_RETURN } from '../steps/cutover.js';
import { PREPARE_STEPS } from '../steps/prepare.js';
import type { ProgressSink } from '../types.js';
import { signalGuest } from './guest-signal.js';
import { activeMigration, contextFor } from './locate.js';
import { withLock } from './lock.js';
import { type PauseVerdict, pauseNow } from './reboot-trigger.js';

/** Every step a rollback may have to undo, in forward order. */
export function allSteps(run: CutoverRun = {}) {
  return [...PREPARE_STEPS, ...cutoverSteps(run)];
}

export type CutoverOutcome = 'done' | 'rolled-back' | 'failed';

/**
 * Runs the cutover steps from wherever the migration stands (checks skip what is done). A failure before the target
 * started rolls everything back: the guest runs on the source, target files gone. A failure after it leaves the
 * migration failed, for an operator: the guest has run on the target and its disk there is the newest.
 */
export async function runCutover(ctx: MigrationContext, run: CutoverRun = {}): Promise<CutoverOutcome> {
  const steps = cutoverSteps(run);
  if (!ctx.job.inCutover) {
    await ctx.patchJob({ inCutover: true });
    ctx.notices?.send(ctx.record, 'started');
  }
  try {
    await runSteps(ctx, steps);
    ctx.notices?.send(ctx.record, 'completed');
    return 'done';
  } catch (err) {
    // Another process took the VM over: it decides what to do now; this one must not touch it again.
    if (err instanceof LockLostError) throw err;
    const reason = (err as Error).message;
    if (await pastNoReturn(ctx, steps, err)) {
      await ctx.moveTo('failed', { lastError: reason });
      ctx.notices?.send(ctx.record, 'failed', { error: reason });
      return 'failed';
    }
    try {
      await undoSteps(ctx, allSteps(run), 'rolling-back', reason);
    } catch (undoErr) {
      ctx.notices?.send(ctx.record, 'failed', { error: ctx.record.lastError ?? reason });
      throw undoErr;
    }
    ctx.notices?.send(ctx.record, 'rolled-back', { error: reason });
    return 'rolled-back';
  }
}

/**
 * Whether the target has run: a failure then never rolls back. Decided by where the failure was, what the journal says
 * and what the target shows, because a step beside start-target (source-stopped) may fail after it.
 */
async function pastNoReturn(ctx: MigrationContext, steps: readonly Step[], err: unknown): Promise<boolean> {
  const failedAt = err instanceof StepFailedError || err instanceof StepBlockedError ? err.step : undefined;
  const names = flattenSteps(steps).map((step) => step.name);
  if (failedAt !== undefined && names.indexOf(failedAt) > names.indexOf(POINT_OF_NO_RETURN)) return true;
  if (ctx.job.targetStarted) return true;
  return targetPresence(ctx).then(isActive, () => false);
}

/** The steps whose undo a rollback or cancel of this migration needs. */
export function undoSetFor(ctx: MigrationContext) {
  return ctx.job.inCutover ? allSteps() : PREPARE_STEPS;
}

export interface RebootNowOptions {
  vm: string;
  /** Pause the guest as it stands if it ignores the graceful reboot. */
  force?: boolean;
  reason?: 'operator' | 'deadline' | 'owner';
  /**
   * Called once the VM's lock is held, before the reboot is asked (the link server claims its token and answers
   * then). If it throws, nothing is done and rebootNow rejects with its error.
   */
  onLocked?: () => void | Promise<void>;
}

export interface RebootNowResult {
  vm: string;
  outcome: CutoverOutcome | 'booted-in-place';
  phase: Phase;
  source: string;
  target: string;
  pauseLatencyMs: number | null;
  forced: boolean;
  lastError: string | null;
}

/**
 * "Reboot now": ask libvirt for a graceful reboot, catch the reboot event it causes, pause the guest there and cut
 * over. A guest that ignores the request is paused as it stands only with `force` (or at its deadline).
 */
export async function rebootNow(
  rt: Runtime,
  options: RebootNowOptions,
  progress: ProgressSink,
): Promise<RebootNowResult> {
  const record = await activeMigration(rt, options.vm);
  if (record.phase !== 'armed') {
    throw new RehomeError(`${options.vm} is ${record.phase}, not armed`, 'migration-failed', [], {
      subject: { code: 'wrong-phase', vm: options.vm },
    });
  }
  return withLock(rt, record.vmUuid, `reboot ${options.vm}`, async (held) => {
    await options.onLocked?.();
    const ctx = contextFor(rt, record, progress, held);
    const client = await ctx.source();
    // Opened before the guest is asked to reboot, not while it is held paused; an unreachable target stops here.
    await ctx.targetClient();
    const domain = ctx.domain;
    const bound = rt.settings.pauseBoundMs;
    let eventAt = 0;
    let resolvePaused: (verdict: PauseVerdict) => void = () => {};
    let rejectPaused: (err: unknown) => void = () => {};
    const paused = new Promise<PauseVerdict>((resolve, reject) => {
      resolvePaused = resolve;
      rejectPaused = reject;
    });
    let caught = false;
    const unsubscribe = client.onEvent((event) => {
      if (event.kind !== 'reboot' || event.domain.uuid !== domain.uuid || caught) return;
      caught = true;
      eventAt = Date.now();
      pauseNow(client, domain, eventAt, bound).then(resolvePaused, rejectPaused);
    });
    const callbackId = await client.registerDomainEvent(DomainEventId.reboot, domain);
    let forced = false;
    try {
      ctx.note('reboot', 'asking the guest for a graceful reboot');
      await ctx.patchJob({ trigger: options.reason ?? 'operator' });
      await client.rebootDomain(domain, ShutdownMode.acpiPowerButton);
      const timeoutMs = rt.settings.gracefulRebootTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const first = await Promise.race([paused, timeout]);
      clearTimeout(timer);
      let verdict: PauseVerdict;
      if (first === 'timeout') {
        if (!options.force) {
          throw new RehomeError(
            `${options.vm} did not reboot within ${timeoutMs} ms`,
            'migration-failed',
            [],
            {
              subject: { code: 'reboot-timeout', vm: options.vm },
            },
          );
        }
        caught = true;
        forced = true;
        ctx.note('reboot', 'the guest ignored the request: pausing it as it stands (--force)');
        await client.suspendDomain(domain);
        verdict = { kind: 'cutover', latencyMs: 0 };
        eventAt = Date.now();
      } else verdict = first;
      await ctx.audit('pause', 'info', {
        latencyMs: verdict.latencyMs,
        boundMs: bound,
        verdict: verdict.kind,
        forced,
      });
      await ctx.patchJob({ pauseLatenciesMs: [...(ctx.job.pauseLatenciesMs ?? []), verdict.latencyMs] });
      if (verdict.kind === 'boot-in-place') {
        return result(ctx, 'booted-in-place', verdict.latencyMs, forced);
      }
      const outcome = await runCutover(ctx, { eventAt });
      return result(ctx, outcome, verdict.latencyMs, forced);
    } finally {
      unsubscribe();
      await client
        .deregisterDomainEvent(callbackId)
        .catch((err: Error) => ctx.audit('reboot', 'info', { deregisterFailed: err.message }));
    }
  });
}

function result(
  ctx: MigrationContext,
  outcome: RebootNowResult['outcome'],
  latency: number,
  forced: boolean,
): RebootNowResult {
  return {
    vm: ctx.record.vmName,
    outcome,
    phase: ctx.record.phase,
    source: ctx.record.sourceHost,
    target: ctx.record.targetHost,
    pauseLatencyMs: latency,
    forced,
    lastError: ctx.record.lastError,
  };
}

/** Cancel: disarm, end the mirror (the guest keeps running on the source), remove the target files. */
export async function cancel(rt: Runtime, vm: string, progress: ProgressSink) {
  const record = await activeMigration(rt, vm);
  if (['cutover', 'switching', 'verifying'].includes(record.phase)) {
    throw new RehomeError(
      `${vm} is in its cutover (${record.phase}); it cannot be cancelled now`,
      'locked',
      [],
      {
        subject: { code: 'in-cutover', vm },
      },
    );
  }
  return withLock(rt, record.vmUuid, `cancel ${vm}`, async (held) => {
    const ctx = contextFor(rt, record, progress, held);
    await undoSteps(ctx, undoSetFor(ctx), 'cancelling', 'cancelled by the operator');
    ctx.notices?.send(ctx.record, 'cancelled');
    await signalGuest(rt, ctx, 'cancelled');
    return {
      vm: ctx.record.vmName,
      id: ctx.record.id,
      phase: ctx.record.phase,
      source: ctx.record.sourceHost,
    };
  });
}

import { RehomeError } from '../../errors.js';
import { LockLostError } from '../../store/errors.js';
import { canTransition, PHASES, type Phase } from '../../store/phases.js';
import type { MigrationContext } from './context.js';
import { holdBeforeStep, holdForever, holdMs } from './faults.js';
import { type CheckResult, flattenSteps, type Step } from './step.js';

/** A step's precondition refused: nothing was done by it. */
export class StepBlockedError extends RehomeError {
  constructor(
    readonly step: string,
    reason: string,
  ) {
    super(`Step ${step} refused: ${reason}`, 'migration-failed');
    this.name = 'StepBlockedError';
  }
}

export class StepFailedError extends RehomeError {
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`Step ${step} failed: ${(cause as Error).message ?? String(cause)}`, 'migration-failed', [], {
      cause,
    });
    this.name = 'StepFailedError';
  }
}

/**
 * Moves to a step's phase. A migration resumed after a crash may already be past it (a cutover found in `verifying`
 * re-runs its earlier steps, which then skip): it stays where it is.
 */
async function enterPhase(ctx: MigrationContext, phase: Phase): Promise<void> {
  const current = ctx.record.phase;
  if (current === phase) return;
  if (canTransition(current, phase)) return ctx.moveTo(phase);
  if (
    PHASES.indexOf(current) > PHASES.indexOf(phase) &&
    PHASES.indexOf(current) <= PHASES.indexOf('verifying')
  )
    return;
  await ctx.moveTo(phase);
}

/**
 * Runs steps in order: confirm the VM's lock, move to the step's phase, check, run; each outcome journaled in the
 * audit log. Throws StepBlockedError or StepFailedError at the first step that cannot go on; the caller decides on
 * rollback. A lost lock (seen before a step, by a fenced write, or by the lease refresher) throws LockLostError as is:
 * another process owns the VM now, so this one must neither go on nor undo anything.
 */
export async function runSteps(
  ctx: MigrationContext,
  steps: readonly Step[],
  ended: StepEnds = new StepEnds([]),
): Promise<void> {
  const hold = holdBeforeStep();
  for (const step of steps) {
    const waitedFor = await ended.waitFor(step);
    if (waitedFor) throw await refused(ctx, step, waitedFor);
    await ctx.confirmLock();
    if (step.enter) await enterPhase(ctx, step.enter);
    if (step.branches) {
      await runBranches(ctx, step.branches);
      continue;
    }
    if (hold === step.name) {
      await ctx.audit(step.name, 'info', { fault: 'REHOME_FAULT_HOLD_BEFORE', pid: process.pid });
      const note = () => ctx.note(step.name, `holding before ${step.name} (REHOME_FAULT_HOLD_BEFORE)`);
      const ms = holdMs();
      if (ms === undefined) await holdForever(note);
      note();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await ctx.confirmLock();
    }
    const vm = ctx.record.vmName;
    let verdict: CheckResult;
    try {
      verdict = await step.check(ctx);
    } catch (err) {
      throw await stepFailed(ctx, step, err, { during: 'check' });
    }
    if (verdict.kind === 'skip') {
      await ctx.audit(step.name, 'info', { skipped: verdict.reason });
      ctx.progress({ vm, step: step.name, status: 'skip', message: verdict.reason });
      ended.ended(step.name);
      continue;
    }
    if (verdict.kind === 'blocked') throw await refused(ctx, step, verdict.reason);
    ctx.progress({ vm, step: step.name, status: 'start' });
    const startedAt = new Date();
    try {
      const detail = (await step.run(ctx)) ?? {};
      const ms = Date.now() - startedAt.getTime();
      await ctx.audit(step.name, 'ok', { startedAt: startedAt.toISOString(), ms, ...detail });
      ctx.progress({ vm, step: step.name, status: 'done', message: `${ms} ms` });
    } catch (err) {
      throw await stepFailed(ctx, step, err, { startedAt: startedAt.toISOString() });
    }
    ended.ended(step.name);
  }
}

/**
 * The steps of one `concurrently` stage that have ended (run or skipped), for the steps that wait for them (Step.after).
 * A branch that stops at a failure takes its steps that never ran with it: whoever waits for one of them is told.
 */
class StepEnds {
  private readonly ends = new Map<
    string,
    { promise: Promise<void>; resolve(): void; reject(err: Error): void }
  >();

  constructor(names: readonly string[]) {
    for (const name of names) {
      let resolve: () => void = () => {};
      let reject: (err: Error) => void = () => {};
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => undefined);
      this.ends.set(name, { promise, resolve, reject });
    }
  }

  /** Waits for the steps `step` waits for; the reason it must not run if one of them will not end. */
  async waitFor(step: Step): Promise<string | undefined> {
    try {
      await Promise.all((step.after ?? []).map((name) => this.ends.get(name)?.promise));
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  ended(name: string): void {
    this.ends.get(name)?.resolve();
  }

  /** Steps of a branch that stopped at a failure: those not ended yet never will. */
  neverEnd(names: readonly string[], failure: string): void {
    for (const name of names) this.ends.get(name)?.reject(new Error(`${name} did not end (${failure})`));
  }
}

/**
 * Every branch runs to its end or its first failure; then the first failure, in the order written, is thrown. A step
 * that waits for a step of another branch (Step.after) fails with it, without running.
 */
async function runBranches(ctx: MigrationContext, branches: readonly (readonly Step[])[]): Promise<void> {
  const ended = new StepEnds(flattenSteps(branches.flat()).map((step) => step.name));
  const settled = await Promise.allSettled(
    branches.map((branch) =>
      runSteps(ctx, branch, ended).catch((err: unknown) => {
        // Resolving an already ended step does nothing: only the steps left behind are refused.
        ended.neverEnd(
          flattenSteps(branch).map((step) => step.name),
          (err as Error).message,
        );
        throw err;
      }),
    ),
  );
  const lockLost = settled.find(
    (result) => result.status === 'rejected' && result.reason instanceof LockLostError,
  );
  const failed = lockLost ?? settled.find((result) => result.status === 'rejected');
  if (failed?.status === 'rejected') throw failed.reason;
}

/** Journals a step refused (its check, or a step it waits for) and names it. */
async function refused(ctx: MigrationContext, step: Step, reason: string): Promise<StepBlockedError> {
  await ctx.audit(step.name, 'error', { blocked: reason });
  ctx.progress({ vm: ctx.record.vmName, step: step.name, status: 'error', message: reason });
  return new StepBlockedError(step.name, reason);
}

/**
 * Journals a step's check or run that threw, and names the step, so that the caller knows where it stopped. A lost
 * lock is rethrown as is, unjournaled as a step failure.
 */
async function stepFailed(
  ctx: MigrationContext,
  step: Step,
  err: unknown,
  detail: Record<string, unknown>,
): Promise<StepFailedError> {
  if (err instanceof LockLostError) throw err;
  if (ctx.guard?.signal.aborted) throw ctx.guard.signal.reason;
  const message = (err as Error).message ?? String(err);
  await ctx.audit(step.name, 'error', { ...detail, error: message });
  ctx.progress({ vm: ctx.record.vmName, step: step.name, status: 'error', message });
  return new StepFailedError(step.name, err);
}

/**
 * Runs the undo of every step, last first. Undos observe before acting, so this is also how a crashed migration is
 * rolled back. `via` is the phase to go through: rolling-back (then `reason` becomes the last error) or cancelling;
 * the migration ends rolled-back or cancelled. A failing undo leaves it failed, for an operator.
 */
export async function undoSteps(
  ctx: MigrationContext,
  steps: readonly Step[],
  via: 'rolling-back' | 'cancelling',
  reason: string,
): Promise<void> {
  const end: Phase = via === 'rolling-back' ? 'rolled-back' : 'cancelled';
  await ctx.moveTo(via, { lastError: via === 'rolling-back' ? reason : null });
  for (const step of flattenSteps(steps).reverse()) {
    if (!step.undo) continue;
    await ctx.confirmLock();
    try {
      await step.undo(ctx);
      await ctx.audit(`undo:${step.name}`, 'ok');
    } catch (err) {
      if (err instanceof LockLostError) throw err;
      const message = `undo of ${step.name} failed: ${(err as Error).message}`;
      // The rollback's cause stays first (it is what went wrong); the failed undo is what is left to finish.
      const lastError = via === 'rolling-back' ? `${reason}; then ${message}` : message;
      await ctx.audit(`undo:${step.name}`, 'error', { error: message });
      await ctx.moveTo('failed', { lastError });
      throw new RehomeError(`${ctx.record.vmName}: ${lastError}`, 'migration-failed', [], {
        subject: {
          code: 'undo-failed',
          vm: ctx.record.vmName,
          host: ctx.record.sourceHost,
          otherHost: ctx.record.targetHost,
        },
      });
    }
  }
  await ctx.moveTo(end);
}

import type { Phase } from '../../store/phases.js';
import type { MigrationContext } from './context.js';

/** A precondition's verdict: go, already done, or refused with a reason. */
export type CheckResult =
  | { kind: 'ok' }
  | { kind: 'skip'; reason: string }
  | { kind: 'blocked'; reason: string };

export const ok: CheckResult = { kind: 'ok' };
export const skip = (reason: string): CheckResult => ({ kind: 'skip', reason });
export const blocked = (reason: string): CheckResult => ({ kind: 'blocked', reason });

/**
 * One named step of a migration. `check` has no side effects; `run` acts; `undo` puts things back and is idempotent
 * and observing (it may run after a crash, for a step that never ran or ran half).
 */
export interface Step {
  name: string;
  /** The phase the migration moves to before this step runs. */
  enter?: Phase;
  check(ctx: MigrationContext): Promise<CheckResult>;
  run(ctx: MigrationContext): Promise<Record<string, unknown> | undefined>;
  undo?(ctx: MigrationContext): Promise<void>;
  /**
   * Inside `concurrently`: steps of other branches that must have ended (run or skipped) before this one starts. If
   * one of them fails or never runs, this step does not run either.
   */
  readonly after?: readonly string[];
  /** Set by `concurrently`: the runner runs these lists side by side instead of calling check and run. */
  readonly branches?: readonly (readonly Step[])[];
}

/**
 * Steps that do not depend on each other, run side by side: each branch is a list run in order, with the same checks,
 * journal and lock confirmation as any other step; a step may also wait for steps of other branches (Step.after). The runner waits for every branch to settle, then reports the
 * first failure. Rollback sees the branches' steps flattened, in the order written, and undoes them last first.
 */
export function concurrently(name: string, enter: Phase | undefined, ...branches: (readonly Step[])[]): Step {
  branches.forEach((branch, index) => {
    const elsewhere = new Set(
      branches.filter((_, other) => other !== index).flatMap((b) => flattenSteps(b).map((s) => s.name)),
    );
    for (const step of flattenSteps(branch))
      for (const wanted of step.after ?? [])
        if (!elsewhere.has(wanted))
          throw new Error(`${name}: ${step.name} waits for ${wanted}, which no other branch has`);
  });
  return {
    name,
    ...(enter ? { enter } : {}),
    branches,
    async check() {
      return ok;
    },
    async run() {
      throw new Error(`${name} runs its branches through the step runner`);
    },
  };
}

/** The steps of a list with concurrent groups expanded, in the order written: what a rollback undoes, last first. */
export function flattenSteps(steps: readonly Step[]): Step[] {
  return steps.flatMap((step) => (step.branches ? flattenSteps(step.branches.flat()) : [step]));
}

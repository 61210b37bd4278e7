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
}

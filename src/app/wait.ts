import { RehomeError } from '../errors.js';
import { type Runtime, type WaitMovedResult, waitUntilMoved } from '../migration/index.js';
import { parseDuration } from '../notify/deadline.js';
import { stderrProgress } from './progress/vm-progress.js';

/** `--timeout 30m`: 45s, 90m, 2h, 1d. */
export function parseWaitTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new RehomeError(
      `Bad --timeout ${JSON.stringify(text)}: use a duration such as 45s, 30m, 2h or 1d`,
      'invalid-input',
    );
  return ms;
}

/**
 * `--wait`: follows the armed migrations until each has moved or ended otherwise, or until the timeout; each phase
 * change is a line on stderr (none under --json). Moves are made by `rehome watch` (or reconcile at the deadline).
 */
export function waitForMoves(
  rt: Runtime,
  ids: readonly string[],
  options: { timeoutMs?: number; quiet: boolean; signal?: AbortSignal },
): Promise<WaitMovedResult> {
  const progress = stderrProgress(options.quiet);
  progress({
    vm: '-',
    step: 'wait',
    status: 'info',
    message: `waiting for ${ids.length} VM${ids.length === 1 ? '' : 's'} to move (rehome watch moves each at its reboot)`,
  });
  return waitUntilMoved(rt.store, ids, {
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onChange: (migration, before) =>
      progress({
        vm: migration.vm,
        step: 'wait',
        status: 'info',
        message: `${before} → ${migration.phase}${migration.lastError ? `: ${migration.lastError}` : ''}`,
      }),
  });
}

/** What `--wait` asks of migrate and drain. */
export interface WaitRequest<T = never> {
  timeoutMs?: number;
  /**
   * Runs the wait with a signal that ends it early (the CLI passes its SIGINT/SIGTERM scope, entered only once
   * everything is armed: before that, the signals stop the command as without --wait). Nothing is undone.
   */
  untilStopped?: <R>(work: (signal: AbortSignal) => Promise<R>) => Promise<R>;
  /** Called once everything is armed, before the wait (the CLI shows the result so far). */
  onArmed?: (armed: T) => void;
  quiet: boolean;
}

/** Runs the arming, then, when asked, the wait for the moves of the migrations it armed. */
export async function thenWait<T>(
  rt: Runtime,
  armed: T,
  ids: readonly string[],
  wait: WaitRequest<T> | undefined,
): Promise<T & { wait?: WaitMovedResult }> {
  if (!wait || ids.length === 0) return armed as T & { wait?: WaitMovedResult };
  wait.onArmed?.(armed);
  const follow = (signal?: AbortSignal) => waitForMoves(rt, ids, { ...wait, ...(signal ? { signal } : {}) });
  return { ...armed, wait: await (wait.untilStopped ? wait.untilStopped(follow) : follow()) };
}

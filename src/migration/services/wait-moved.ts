/**
 * `--wait` of `rehome migrate` and `rehome drain`: after arming, follow the migrations in the store until each has
 * moved (done) or ended otherwise (rolled back, cancelled, failed). The moves themselves are made by `rehome watch`
 * at each guest's reboot, or by reconcile at the deadline; this only watches the records. A `timeoutMs` ends the
 * wait, never a migration: what is armed stays armed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminalPhase, type Phase } from '../../store/phases.js';
import type { MigrationRecord, Store } from '../../store/types.js';

export interface WaitedMigration {
  vm: string;
  id: string;
  phase: Phase;
  lastError: string | null;
}

export interface WaitMovedResult {
  /** True when every migration settled (whatever its outcome) before the timeout. */
  settled: boolean;
  /** True when every one is done. */
  allMoved: boolean;
  waitedMs: number;
  migrations: WaitedMigration[];
}

export interface WaitMovedOptions {
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Each phase change seen, for progress lines. */
  onChange?: (migration: WaitedMigration, before: Phase) => void;
  now?: () => number;
}

/** Settled: nothing more will happen without an operator (done, rolled back, cancelled, or failed). */
export function settled(phase: Phase): boolean {
  return isTerminalPhase(phase) || phase === 'failed';
}

export async function waitUntilMoved(
  store: Pick<Store, 'getMigration'>,
  ids: readonly string[],
  options: WaitMovedOptions = {},
): Promise<WaitMovedResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const pollMs = options.pollMs ?? 2_000;
  const seen = new Map<string, WaitedMigration>();
  for (;;) {
    for (const id of ids) {
      const record = await store.getMigration(id);
      if (!record) continue;
      const current = waited(record);
      const before = seen.get(id);
      if (before && before.phase !== current.phase) options.onChange?.(current, before.phase);
      seen.set(id, current);
    }
    const migrations = [...seen.values()];
    const done = migrations.length === ids.length && migrations.every((m) => settled(m.phase));
    const waitedMs = now() - started;
    const outOfTime = options.timeoutMs !== undefined && waitedMs >= options.timeoutMs;
    if (done || outOfTime || options.signal?.aborted)
      return {
        settled: done,
        allMoved: done && migrations.every((m) => m.phase === 'done'),
        waitedMs,
        migrations,
      };
    const left = options.timeoutMs === undefined ? pollMs : Math.min(pollMs, options.timeoutMs - waitedMs);
    await sleep(Math.max(left, 1), undefined, options.signal ? { signal: options.signal } : {}).catch(
      () => {},
    );
  }
}

function waited(record: MigrationRecord): WaitedMigration {
  return { vm: record.vmName, id: record.id, phase: record.phase, lastError: record.lastError };
}

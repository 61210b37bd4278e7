import type { DrainRecord, DrainVmRecord, MigrationRecord, Store } from '../store/types.js';
import type { PrepareAndArm } from './types.js';

/**
 * A drain ends with its host empty, or with each remaining VM's permanent reason. A VM whose move was rolled back for
 * a cause that passes (its mirror lost, the target unreachable for a while, a step that timed out) is prepared and
 * armed again, after a backoff that doubles, up to a number of attempts. `watch` runs this after each reconcile pass;
 * `status --host` shows, for each VM that waits, why and until when.
 */
export interface RearmPolicy {
  /** Moves tried in all (the first included) before a VM is left with its reason. */
  maxAttempts: number;
  /** Wait after the first rollback; doubled after each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_REARM_POLICY: RearmPolicy = {
  maxAttempts: 4,
  baseDelayMs: 60_000,
  maxDelayMs: 15 * 60_000,
};

/** Words of a rollback's reason that say it was caused by something that passes. */
const TRANSIENT =
  /mirror|block job|export|unreachable|timed out|timeout|connection|keepalive|ECONN|EHOSTUNREACH|no route|lost|converge/i;
/** And words that say it will fail the same way again, whatever else the message says. */
const PERMANENT = /blocked|refused|not supported|unsupported|incompatible|no space|already exists|not found/i;

export function isTransientCause(reason: string | null | undefined): boolean {
  if (!reason) return false;
  return TRANSIENT.test(reason) && !PERMANENT.test(reason);
}

export type RearmVerdict =
  | { kind: 'none' }
  | { kind: 'due'; attempt: number; cause: string }
  | { kind: 'waiting'; attempt: number; at: Date; cause: string }
  | { kind: 'permanent'; cause: string; attempts: number };

/**
 * What to do with one VM of a drain, from its migrations since the drain started (newest last): nothing (it is on its
 * way or moved), re-arm now, wait until `at`, or leave it with its reason.
 */
export function rearmVerdict(
  vm: DrainVmRecord,
  attempts: readonly MigrationRecord[],
  now: Date,
  policy: RearmPolicy = DEFAULT_REARM_POLICY,
): RearmVerdict {
  if (vm.outcome === 'blocked' || vm.outcome === 'pending' || vm.outcome === 'preparing')
    return { kind: 'none' };
  const latest = attempts.at(-1);
  if (latest && latest.phase !== 'rolled-back') return { kind: 'none' };
  const cause = latest?.lastError ?? vm.detail ?? 'unknown';
  const tried = Math.max(attempts.length, 1);
  if (!isTransientCause(cause)) return { kind: 'permanent', cause, attempts: tried };
  if (tried >= policy.maxAttempts) return { kind: 'permanent', cause, attempts: tried };
  const since = Date.parse(latest?.updatedAt ?? vm.updatedAt);
  const delay = Math.min(policy.baseDelayMs * 2 ** (tried - 1), policy.maxDelayMs);
  const at = new Date(since + delay);
  if (at.getTime() > now.getTime()) return { kind: 'waiting', attempt: tried + 1, at, cause };
  return { kind: 'due', attempt: tried + 1, cause };
}

/** One line for `status --host`: why a VM is still on the host. */
export function describeVerdict(
  verdict: RearmVerdict,
  policy: RearmPolicy = DEFAULT_REARM_POLICY,
): string | null {
  switch (verdict.kind) {
    case 'none':
      return null;
    case 'due':
      return `re-armed at the next watch pass (attempt ${verdict.attempt} of ${policy.maxAttempts}) after: ${verdict.cause}`;
    case 'waiting':
      return `waits until ${verdict.at.toISOString()} to be armed again (attempt ${verdict.attempt} of ${policy.maxAttempts}) after: ${verdict.cause}`;
    case 'permanent':
      return verdict.attempts >= policy.maxAttempts && isTransientCause(verdict.cause)
        ? `stays: gave up after ${verdict.attempts} attempts; last: ${verdict.cause}`
        : `stays: ${verdict.cause}`;
  }
}

/** The VM's migrations from the drain's start on, oldest first. */
export async function attemptsOf(
  store: Store,
  drain: DrainRecord,
  vm: DrainVmRecord,
): Promise<MigrationRecord[]> {
  const all = await store.listMigrations({ vm: vm.vmUuid });
  return all
    .filter((m) => m.vmUuid === vm.vmUuid && m.createdAt >= drain.startedAt)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export interface RearmEntry {
  host: string;
  vm: string;
  attempt: number;
  outcome: 'armed' | 'failed';
  detail: string;
}

/**
 * Re-arms the VMs of the latest drain of each draining host whose verdict is `due`. A VM with an active migration is
 * never touched (prepareAndArm refuses it anyway). Returns what it did; never throws for one VM.
 */
export async function rearmDrains(
  store: Store,
  prepareAndArm: PrepareAndArm,
  options: { now?: () => Date; policy?: RearmPolicy } = {},
): Promise<RearmEntry[]> {
  const now = options.now ?? (() => new Date());
  const policy = options.policy ?? DEFAULT_REARM_POLICY;
  const entries: RearmEntry[] = [];
  const latestByHost = new Map<string, DrainRecord>();
  for (const drain of await store.listDrains()) latestByHost.set(drain.host, drain);
  for (const drain of latestByHost.values()) {
    if ((await store.getHostState(drain.host))?.state !== 'draining') continue;
    for (const vm of drain.vms) {
      if (!vm.targetHost) continue;
      const verdict = rearmVerdict(vm, await attemptsOf(store, drain, vm), now(), policy);
      if (verdict.kind !== 'due') continue;
      try {
        const armed = await prepareAndArm({ name: vm.vmName, uuid: vm.vmUuid }, vm.targetHost, {
          deadline: drain.deadline,
          ...(drain.bandwidthBytesPerSec ? { bandwidthBytesPerSec: drain.bandwidthBytesPerSec } : {}),
        });
        await store.updateDrainVm(drain.id, vm.vmUuid, {
          outcome: 'armed',
          migrationId: armed.migrationId,
          detail: null,
        });
        entries.push({
          host: drain.host,
          vm: vm.vmName,
          attempt: verdict.attempt,
          outcome: 'armed',
          detail: armed.phase,
        });
      } catch (err) {
        const message = (err as Error).message;
        await store.updateDrainVm(drain.id, vm.vmUuid, { outcome: 'failed', detail: message });
        entries.push({
          host: drain.host,
          vm: vm.vmName,
          attempt: verdict.attempt,
          outcome: 'failed',
          detail: message,
        });
      }
    }
  }
  return entries;
}

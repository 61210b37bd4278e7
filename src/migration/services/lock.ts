import { LockLostError } from '../../store/errors.js';
import type { Lock } from '../../store/types.js';
import type { LockGuard } from '../engine/context.js';
import type { Runtime } from '../runtime.js';

export const LOCK_TTL_MS = 120_000;

/** A lock being held: the store lock, the fence its writes carry, and a signal that fires when it is lost. */
export interface HeldLock extends LockGuard {
  readonly lock: Lock;
}

/** Holds the VM's lock while fn runs, refreshing the lease; releases it after. */
export async function withLock<T>(
  rt: Runtime,
  vmUuid: string,
  purpose: string,
  fn: (held: HeldLock) => Promise<T>,
): Promise<T> {
  const lock = await rt.store.acquireLock(vmUuid, rt.lockOwner(purpose), LOCK_TTL_MS);
  return holdingLock(lock, fn);
}

/**
 * Runs fn holding the lock, refreshing the lease every ttl/4. The lock is lost when a refresh finds it taken over
 * (LockLostError), or when refreshes failed (the store unreachable, busy) until the lease we last extended ran out:
 * then the signal aborts with a LockLostError, and the step runner stops before the next step. The phase writes are
 * fenced by the lock's token besides, so a holder that stalled (SIGSTOP, a long pause) cannot move a phase even before
 * it notices.
 */
export async function holdingLock<T>(
  lock: Lock,
  fn: (held: HeldLock) => Promise<T>,
  ttlMs = LOCK_TTL_MS,
): Promise<T> {
  const controller = new AbortController();
  let leaseEndsAt = Date.now() + ttlMs;
  const refresh = async (): Promise<void> => {
    if (controller.signal.aborted) return;
    const asked = Date.now();
    try {
      await lock.refresh(ttlMs);
      leaseEndsAt = asked + ttlMs;
    } catch (err) {
      if (err instanceof LockLostError) controller.abort(err);
      else if (Date.now() >= leaseEndsAt) {
        const lost = new LockLostError(lock.vmKey);
        lost.cause = err;
        controller.abort(lost);
      }
    }
  };
  const timer = setInterval(() => void refresh(), ttlMs / 4);
  const held: HeldLock = {
    lock,
    fence: lock.fence,
    signal: controller.signal,
    async confirm() {
      await refresh();
      controller.signal.throwIfAborted();
    },
  };
  try {
    return await fn(held);
  } finally {
    clearInterval(timer);
    await lock.release();
  }
}

import type { Lock } from '../../store/types.js';
import type { Runtime } from '../runtime.js';

export const LOCK_TTL_MS = 120_000;

/** Holds the VM's lock while fn runs, refreshing the lease; releases it after. */
export async function withLock<T>(
  rt: Runtime,
  vmUuid: string,
  purpose: string,
  fn: (lock: Lock) => Promise<T>,
): Promise<T> {
  const lock = await rt.store.acquireLock(vmUuid, rt.lockOwner(purpose), LOCK_TTL_MS);
  return holdingLock(lock, fn);
}

export async function holdingLock<T>(lock: Lock, fn: (lock: Lock) => Promise<T>): Promise<T> {
  const timer = setInterval(() => void lock.refresh().catch(() => undefined), LOCK_TTL_MS / 4);
  try {
    return await fn(lock);
  } finally {
    clearInterval(timer);
    await lock.release();
  }
}

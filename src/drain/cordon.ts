import type { HostStateChange, Store } from '../store/types.js';

/** What `hosts cordon` and `hosts uncordon` did: the host's state before and after, and whether it was written. */
export type CordonResult = HostStateChange;

/**
 * Cordons a host: no VM is placed on it any more; `reason` is shown by `hosts list`. Already cordoned or draining: no
 * change (a draining host is already closed to new VMs, and cordoning must not end its drain).
 */
export async function cordonHost(store: Store, host: string, reason?: string): Promise<CordonResult> {
  const current = (await store.getHostState(host))?.state;
  if (current) return { host, before: current, after: current, changed: false };
  return store.setHostState(host, 'cordoned', reason ?? null);
}

/** Opens the host to new VMs again (also ends a drain's mark). Already active: no change. */
export async function uncordonHost(store: Store, host: string): Promise<CordonResult> {
  return store.setHostState(host, 'active');
}

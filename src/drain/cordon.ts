import type { HostStateChange, HostStateName, Store } from '../store/types.js';

export interface CordonResult extends HostStateChange {
  /** What the command did, for people: e.g. "lab-a cordoned" or "lab-a is already draining (no change)". */
  message: string;
}

/**
 * Cordons a host: no VM is placed on it any more. Already cordoned or draining: no change (a draining host is already
 * closed to new VMs, and cordoning must not end its drain).
 */
export async function cordonHost(store: Store, host: string): Promise<CordonResult> {
  const current = (await store.getHostState(host))?.state;
  if (current) return unchanged(host, current);
  const change = await store.setHostState(host, 'cordoned', 'cordon');
  return {
    ...change,
    message: change.changed ? `${host} cordoned` : `${host} is already cordoned (no change)`,
  };
}

/** Opens the host to new VMs again (also ends a drain's mark). Already active: no change. */
export async function uncordonHost(store: Store, host: string): Promise<CordonResult> {
  const change = await store.setHostState(host, 'active');
  const message = change.changed
    ? `${host} uncordoned (was ${change.before})`
    : `${host} is not cordoned (no change)`;
  return { ...change, message };
}

function unchanged(host: string, state: HostStateName): CordonResult {
  return {
    host,
    before: state,
    after: state,
    changed: false,
    message: `${host} is already ${state} (no change)`,
  };
}

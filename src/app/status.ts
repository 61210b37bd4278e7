import { type DrainStatus, drainStatus } from '../drain/status.js';
import { type StatusResult, status } from '../migration/index.js';
import { type RuntimePaths, withStore } from './runtime.js';

/** `rehome status [VM]`: from the state database alone, so it works without a config. */
export function migrationStatus(paths: RuntimePaths, vm: string | undefined): Promise<StatusResult> {
  return withStore(paths, (store) => status({ store }, vm));
}

/** `rehome status --host HOST`: the host's latest drain. */
export function hostDrainStatus(paths: RuntimePaths, host: string): Promise<DrainStatus> {
  return withStore(paths, (store) => drainStatus(store, host));
}

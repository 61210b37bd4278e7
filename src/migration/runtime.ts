import type { HostConfig, RehomeConfig } from '../config/schema.js';
import type { LockOwner, Store } from '../store/types.js';
import type { MigrationSettings } from './settings.js';
import type { HostsPort } from './types.js';

/** Everything an operation needs: config, store, hosts. The application layer opens one (src/app/runtime.ts), passes it in, closes it. */
export interface Runtime {
  config: RehomeConfig;
  store: Store;
  hosts: HostsPort;
  settings: MigrationSettings & { certDir: string };
  /** For the link secret and template overrides; absent in fakes. */
  configDir?: string;
  host(name: string): HostConfig;
  lockOwner(purpose: string): LockOwner;
  close(): Promise<void>;
}

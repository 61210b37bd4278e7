import { hostname } from 'node:os';
import type { RehomeConfig } from '../config/schema.js';
import { sshOptionsFromConfig } from '../config/ssh-options.js';
import { RehomeError } from '../errors.js';
import type { SshConnectOptions } from '../host/ssh-connection.js';
import { SshPool } from '../host/ssh-pool.js';
import { HostConnections } from '../libvirt/host-connections.js';
import { closeNotices, type HostsPort, migrationSettings, type Runtime } from '../migration/index.js';
import { openStore } from '../store/open.js';
import { defaultStorePath } from '../store/sqlite/open.js';
import type { Store } from '../store/types.js';

import { loadConfigFile, type RuntimePaths } from './config-load.js';

export { loadConfigFile, type RuntimePaths };

/** REHOME_DATA_DIR overrides oclif's dataDir; the database is `rehome.db` in it. */
function storePath(dataDir: string): string {
  return defaultStorePath(process.env.REHOME_DATA_DIR || dataDir);
}

/** The one place SSH connections to the configured hosts are made: one connection and one libvirt client per host. */
export function openHostConnections(
  config: RehomeConfig,
  overrides: SshConnectOptions = {},
): HostConnections {
  return new HostConnections(config.hosts, new SshPool({ ...sshOptionsFromConfig(config), ...overrides }));
}

export interface RuntimeOptions {
  /**
   * The process may cut a VM over (watch, serve, reboot): each host connection keeps shells open for the cutover's
   * commands, which then do not wait for sshd to fork at its busiest moment (SshConnectOptions.warmShells).
   */
  runsCutovers?: boolean;
}

/**
 * Cued shells kept per host connection by a process that runs cutovers, each good for one command: a UEFI + vTPM
 * guest's cutover runs 7-8 commands on each host (source: the QEMU's pid file and /proc, the wait for its exit, the
 * taps, the firmware carry's listing, archive and hashes; target: the export's observation, kill, wait and removal, the
 * carry's removal, unpacking, listing and hashes). One that finds the pool empty waits for sshd's fork (~0.2 s here).
 */
const CUTOVER_WARM_SHELLS = 8;

/** Runs `work` with the config, the store and the host connections, and closes them all afterwards. */
export async function withRuntime<T>(
  paths: RuntimePaths,
  work: (rt: Runtime) => Promise<T>,
  options: RuntimeOptions = {},
): Promise<T> {
  const rt = await openRuntime(paths, options);
  try {
    return await work(rt);
  } finally {
    await rt.close();
  }
}

/**
 * Runs `work` with the state database alone, for reading it (`rehome status`): no hosts needed. The config is read
 * only for `store.url`; without a config file the store is SQLite in the data dir.
 */
export async function withStore<T>(paths: RuntimePaths, work: (store: Store) => Promise<T>): Promise<T> {
  const { config } = await loadConfigFile(paths);
  const store = await openStore({ url: config.store?.url, sqlitePath: storePath(paths.dataDir) });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function openRuntime(paths: RuntimePaths, options: RuntimeOptions): Promise<Runtime> {
  const { config } = await loadConfigFile(paths);
  const certDir = config.tls?.certDir;
  const store = await openStore({ url: config.store?.url, sqlitePath: storePath(paths.dataDir) });
  const connections = openHostConnections(
    config,
    options.runsCutovers ? { warmShells: CUTOVER_WARM_SHELLS } : {},
  );
  const hosts: HostsPort = {
    ssh: (host) => connections.ssh(host),
    libvirt: (host) => connections.libvirt(host),
    addressOf: async (host) => (await connections.ssh(host)).resolved.hostname,
  };
  const host = (name: string) => {
    const found = config.hosts.find((candidate) => candidate.name === name);
    if (!found)
      throw new RehomeError(`No host named ${name} in the rehome config`, 'not-found', [], {
        subject: { code: 'unknown-host', host: name },
      });
    return found;
  };
  const rt: Runtime = {
    config,
    configDir: paths.configDir,
    store,
    hosts,
    settings: {
      ...migrationSettings(config),
      get certDir(): string {
        if (!certDir) {
          throw new RehomeError('tls.certDir is not set in the rehome config', 'config', [
            'Set tls.certDir to the directory holding ca-cert.pem, server-cert.pem and server-key.pem on every host.',
          ]);
        }
        return certDir;
      },
    },
    host,
    lockOwner: (purpose) => ({ pid: process.pid, host: hostname(), purpose }),
    close: async () => {
      await closeNotices(rt);
      await connections.closeAll();
      await store.close();
    },
  };
  return rt;
}

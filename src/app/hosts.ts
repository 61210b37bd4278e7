import { saveConfig } from '../config/config-file.js';
import { addHost, removeHost } from '../config/hosts.js';
import type { HostConfig } from '../config/schema.js';
import { type HostOverview, hostOverview } from '../drain/host-overview.js';
import { loadConfigFile, type RuntimePaths } from './config-load.js';

export interface HostsListResult {
  configPath: string;
  hosts: HostOverview[];
}

export interface HostsAddResult {
  configPath: string;
  added: HostConfig;
}

export interface HostsRemoveResult {
  configPath: string;
  removed: HostConfig;
}

/** The configured hosts with their state (active, cordoned, draining) and active migrations, from the store. */
export async function listHosts(paths: RuntimePaths): Promise<HostsListResult> {
  const loaded = await loadConfigFile(paths);
  const { withStore } = await import('./runtime.js');
  const hosts = await withStore(paths, async (store) =>
    hostOverview(
      loaded.config.hosts,
      await store.listHostStates(),
      await store.listMigrations({ activeOnly: true }),
    ),
  );
  return { configPath: loaded.path, hosts };
}

/** Adds the host to the config file; nothing is contacted. */
export async function addConfiguredHost(
  paths: RuntimePaths,
  input: Parameters<typeof addHost>[1],
): Promise<HostsAddResult> {
  const loaded = await loadConfigFile(paths, { create: true });
  const added = addHost(loaded, input);
  await saveConfig(loaded);
  return { configPath: loaded.path, added };
}

/** Removes the host from the config file; nothing on the host is touched. */
export async function removeConfiguredHost(paths: RuntimePaths, name: string): Promise<HostsRemoveResult> {
  const loaded = await loadConfigFile(paths);
  const removed = removeHost(loaded, name);
  await saveConfig(loaded);
  return { configPath: loaded.path, removed };
}

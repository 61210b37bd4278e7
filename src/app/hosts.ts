import { saveConfig } from '../config/config-file.js';
import { addHost, removeHost } from '../config/hosts.js';
import type { HostConfig, HostConfigInput } from '../config/schema.js';
import { loadConfigFile, type RuntimePaths } from './runtime.js';

export interface HostsListResult {
  configPath: string;
  hosts: HostConfig[];
}

export interface HostsAddResult {
  configPath: string;
  added: HostConfig;
}

export interface HostsRemoveResult {
  configPath: string;
  removed: HostConfig;
}

export async function listHosts(paths: RuntimePaths): Promise<HostsListResult> {
  const loaded = await loadConfigFile(paths);
  return { configPath: loaded.path, hosts: loaded.config.hosts };
}

/** Adds the host to the config file; nothing is contacted. */
export async function addConfiguredHost(
  paths: RuntimePaths,
  input: HostConfigInput,
): Promise<HostsAddResult> {
  const loaded = await loadConfigFile(paths);
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

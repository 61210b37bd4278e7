import { diskPolicyOptions } from '../disks/options.js';
import { RehomeError } from '../errors.js';
import { inventoryHosts } from '../inventory/inventory.js';
import type { Inventory } from '../inventory/types.js';
import { withInventoryProgress } from './progress/inventory.js';
import type { ProgressMode } from './progress/lines.js';
import { loadConfigFile, openHostConnections, type RuntimePaths } from './runtime.js';

export interface InventoryResult extends Inventory {
  /** Host keys appended to known_hosts because of --accept-unknown-host-keys (or the config setting). */
  hostKeysRecorded: { host: string; file: string }[];
}

export interface InventoryRequest {
  /** Names from the rehome config; empty: all. */
  hosts: readonly string[];
  acceptUnknownHostKeys: boolean;
}

/** `rehome inventory`: reads the hosts in parallel over their own connections, closed afterwards. No store. */
export async function readInventory(
  paths: RuntimePaths,
  request: InventoryRequest,
  mode: ProgressMode,
): Promise<InventoryResult> {
  const { config } = await loadConfigFile(paths);
  const hosts = selectHosts(config.hosts, request.hosts);
  const hostKeysRecorded: InventoryResult['hostKeysRecorded'] = [];
  const connections = openHostConnections(config, {
    ...(request.acceptUnknownHostKeys ? { acceptUnknownHostKeys: true } : {}),
    onHostKeyAdded: (event) => hostKeysRecorded.push(event),
  });
  try {
    const inventory = await withInventoryProgress(
      hosts.map((host) => host.name),
      mode,
      (callbacks) =>
        inventoryHosts(hosts, connections, {
          ...callbacks,
          sharedPrefixes: config.storage?.sharedPrefixes ?? [],
          diskPolicy: diskPolicyOptions(config),
        }),
    );
    return { ...inventory, hostKeysRecorded };
  } finally {
    await connections.closeAll();
  }
}

function selectHosts<T extends { name: string }>(configured: readonly T[], wanted: readonly string[]): T[] {
  if (configured.length === 0) {
    throw new RehomeError('No hosts configured', 'config', [], { subject: { code: 'no-hosts' } });
  }
  if (wanted.length === 0) return [...configured];
  const unknown = wanted.filter((name) => !configured.some((host) => host.name === name));
  if (unknown.length > 0) {
    throw new RehomeError(
      `Unknown host${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')}`,
      'not-found',
      [`Known hosts: ${configured.map((host) => host.name).join(', ')}`],
    );
  }
  return [...new Set(wanted)].map((name) => configured.find((host) => host.name === name) as T);
}

import type { LibvirtClient } from '../libvirt/client.js';
import { describeFailure } from './failure.js';
import { readHost } from './host.js';
import type { NodeShell } from './node-commands.js';
import type { HostInventory, Inventory, InventoryHost, InventoryOptions } from './types.js';

/** How the inventory reaches a host: the runtime's host connections, or a fake. */
export interface InventoryConnections {
  ssh(host: string): Promise<NodeShell>;
  libvirt(host: string): Promise<LibvirtClient>;
}

/**
 * Reads every host at once. A host that fails (SSH refused, host key rejected, libvirtd down) becomes a failure entry
 * with its reason; the others are still reported. Results keep the order of `hosts`.
 */
export async function inventoryHosts(
  hosts: readonly InventoryHost[],
  connections: InventoryConnections,
  options: InventoryOptions = {},
): Promise<Inventory> {
  const results = await Promise.all(hosts.map((host) => inventoryHost(host, connections, options)));
  return { hosts: results };
}

async function inventoryHost(
  host: InventoryHost,
  connections: InventoryConnections,
  options: InventoryOptions,
): Promise<HostInventory> {
  const started = performance.now();
  options.onHostStart?.(host.name);
  let result: HostInventory;
  try {
    const [ssh, libvirt] = await Promise.all([connections.ssh(host.name), connections.libvirt(host.name)]);
    const facts = await readHost(host, ssh, libvirt, {
      sharedPrefixes: options.sharedPrefixes ?? [],
      ...(options.diskPolicy ? { diskPolicy: options.diskPolicy } : {}),
    });
    result = { ...facts, elapsedMs: Math.round(performance.now() - started) };
  } catch (err) {
    result = {
      name: host.name,
      ok: false,
      error: describeFailure(host.name, err),
      elapsedMs: Math.round(performance.now() - started),
    };
  }
  options.onHostDone?.(result);
  return result;
}

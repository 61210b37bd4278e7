import { RehomeError } from '../cli/errors.js';
import type { RehomeConfig } from '../config/schema.js';
import { sshOptionsFromConfig } from '../config/ssh-options.js';
import { SshPool } from '../host/ssh-pool.js';
import type { InventoryCallbacks } from '../inventory/types.js';
import { HostConnections } from '../libvirt/host-connections.js';
import type { Strategy } from '../placement/types.js';
import type { Store } from '../store/types.js';
import { gatherFleetFacts } from './facts.js';
import { planHostDrain } from './plan.js';
import { drainSettings, linkSpeed } from './settings.js';
import type { DrainPlanReport } from './types.js';

export interface MakeDrainPlanOptions extends InventoryCallbacks {
  strategy?: Strategy;
  explain?: boolean;
  /** --link-speed in MiB/s. */
  linkSpeedMiBps?: number;
}

/**
 * Reads every configured host (one SSH connection each, closed afterwards), applies the store's host states and the
 * config's policies, and plans the drain of `host`. Changes nothing anywhere.
 */
export async function makeDrainPlan(
  config: RehomeConfig,
  store: Pick<Store, 'listHostStates'>,
  host: string,
  options: MakeDrainPlanOptions = {},
): Promise<DrainPlanReport> {
  requireConfiguredHost(config, host);
  const { strategy, explain, linkSpeedMiBps, ...callbacks } = options;
  const speed = linkSpeed(linkSpeedMiBps, drainSettings(config));
  const connections = new HostConnections(config.hosts, new SshPool(sshOptionsFromConfig(config)));
  try {
    const facts = await gatherFleetFacts(config, connections, await store.listHostStates(), {
      ...callbacks,
      cpuHost: host,
    });
    return planHostDrain(host, facts, {
      linkSpeed: speed,
      ...(strategy ? { strategy } : {}),
      ...(explain ? { explain } : {}),
    });
  } finally {
    await connections.closeAll();
  }
}

export function requireConfiguredHost(config: Pick<RehomeConfig, 'hosts'>, host: string): void {
  if (config.hosts.some((entry) => entry.name === host)) return;
  throw new RehomeError(`No host named ${host} in the rehome config`, 'notFound', [
    `Known hosts: ${config.hosts.map((entry) => entry.name).join(', ') || 'none'}`,
  ]);
}

import type { HostConfig } from '../config/schema.js';
import type { HostStateName, HostStateRecord, MigrationRecord } from '../store/types.js';

/** One configured host as `hosts list` shows it: its config, its state, and the migrations that involve it. */
export interface HostOverview extends HostConfig {
  state: HostStateName | 'active';
  /** Why it is cordoned or draining (`hosts cordon --reason`), when given. */
  reason: string | null;
  /** When it left the active state (ISO-8601 UTC); null when active. */
  since: string | null;
  /** Active migrations (armed, or on their way to it) of VMs leaving this host. */
  outgoing: number;
  /** Active migrations of VMs coming to this host. */
  incoming: number;
}

/** Pure: the configured hosts in config order, with the states and active migrations read from the store. */
export function hostOverview(
  hosts: readonly HostConfig[],
  states: readonly HostStateRecord[],
  activeMigrations: readonly Pick<MigrationRecord, 'sourceHost' | 'targetHost'>[],
): HostOverview[] {
  const stateOf = new Map(states.map((record) => [record.host, record]));
  return hosts.map((host) => {
    const record = stateOf.get(host.name);
    return {
      ...host,
      state: record?.state ?? 'active',
      reason: record?.reason ?? null,
      since: record?.since ?? null,
      outgoing: activeMigrations.filter((migration) => migration.sourceHost === host.name).length,
      incoming: activeMigrations.filter((migration) => migration.targetHost === host.name).length,
    };
  });
}

import type { RehomeConfig } from '../config/schema.js';
import { RehomeError } from '../errors.js';
import { type Fleet, readFleetFacts } from '../inventory/fleet-facts.js';
import type { InventoryCallbacks } from '../inventory/types.js';
import type { Strategy } from '../placement/types.js';
import { planHostDrain } from './plan.js';
import { drainSettings, linkSpeed } from './settings.js';
import type { DrainPlanReport } from './types.js';

export interface MakeDrainPlanOptions extends InventoryCallbacks {
  strategy?: Strategy;
  explain?: boolean;
  /** --link-speed in MiB/s. */
  linkSpeedMiBps?: number;
  /** The drain's --bandwidth: each mirror's budget, in bytes per second. */
  bandwidthBytesPerSec?: number;
}

/** Reads the fleet (readFleetFacts) and plans the drain of `host`. Changes nothing anywhere. */
export async function makeDrainPlan(
  fleet: Fleet,
  host: string,
  options: MakeDrainPlanOptions = {},
): Promise<DrainPlanReport> {
  requireConfiguredHost(fleet.config, host);
  const { strategy, explain, linkSpeedMiBps, bandwidthBytesPerSec, ...callbacks } = options;
  const speed = linkSpeed(linkSpeedMiBps, drainSettings(fleet.config), bandwidthBytesPerSec);
  const facts = await readFleetFacts(fleet, { ...callbacks, cpuHost: host });
  return planHostDrain(host, facts, {
    linkSpeed: speed,
    ...(strategy ? { strategy } : {}),
    ...(explain ? { explain } : {}),
  });
}

export function requireConfiguredHost(config: Pick<RehomeConfig, 'hosts'>, host: string): void {
  if (config.hosts.some((entry) => entry.name === host)) return;
  throw new RehomeError(`No host named ${host} in the rehome config`, 'not-found', [
    `Known hosts: ${config.hosts.map((entry) => entry.name).join(', ') || 'none'}`,
  ]);
}

import { unreadableHostError } from '../inventory/failure.js';
import type { PlacementInput } from '../inventory/placement-facts.js';
import { planDrain } from '../placement/plan.js';
import type { HostFacts, HostState, Strategy } from '../placement/types.js';
import type { HostStateName } from '../store/types.js';
import type { LinkSpeed } from './settings.js';
import type { DrainPlanEntry, DrainPlanReport } from './types.js';

const MiB = 1024 * 1024;

export interface DrainPlanOptions {
  strategy?: Strategy;
  explain?: boolean;
  linkSpeed: LinkSpeed;
}

/**
 * The plan for emptying `host`, from facts already gathered. The source counts as draining whatever the store says,
 * so nothing of this plan lands on it; cordoned and draining hosts are never targets. Pure.
 */
export function planHostDrain(
  host: string,
  facts: PlacementInput,
  options: DrainPlanOptions,
): DrainPlanReport {
  if (facts.unreachable.includes(host)) {
    throw unreadableHostError(`${host} could not be read, so its VMs are unknown`, facts.failures?.[host], {
      code: 'host-unreadable',
      host,
    });
  }
  const hosts: HostFacts[] = facts.hosts.map((entry) =>
    entry.name === host ? { ...entry, state: 'draining' as HostState } : entry,
  );
  const linkBytesPerSecond = options.linkSpeed.mibPerSec * MiB;
  const plan = planDrain(
    host,
    facts.vms.filter((vm) => vm.host === host),
    hosts,
    {
      strategy: options.strategy ?? 'spread',
      explain: options.explain === true,
      linkBytesPerSecond,
    },
  );
  const decisions: DrainPlanEntry[] = plan.decisions.map((decision) => ({
    ...decision,
    etaSeconds: Math.ceil(decision.bytesToCopy / linkBytesPerSecond),
  }));
  return {
    host,
    strategy: plan.strategy,
    linkSpeed: options.linkSpeed,
    hostStates: hosts
      .filter((entry) => entry.state !== 'active')
      .map((entry) => ({ host: entry.name, state: entry.state as HostStateName }))
      .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)),
    unreachable: [...facts.unreachable],
    decisions,
    totals: plan.totals,
    blocked: plan.totals.blocked > 0,
  };
}

import { RehomeError } from '../errors.js';
import { placeOne } from '../placement/plan.js';
import type { Strategy, TargetChoice } from '../placement/types.js';
import { unreadableHostError } from './failure.js';
import { type Fleet, readFleetFacts } from './fleet-facts.js';
import type { PlacementInput } from './placement-facts.js';

export interface VmToPlace {
  name: string;
  uuid: string;
  /** The host it runs on now. */
  source: string;
}

/**
 * A target for one VM, by placement over a fresh read of the configured fleet: not its host, no cordoned or draining
 * host, hardware, capacity, networks and labels as for a drain. A VM that fits nowhere is a `blocked` error that
 * lists why each host was skipped.
 */
export async function chooseTarget(
  fleet: Fleet,
  vm: VmToPlace,
  options: { strategy?: Strategy } = {},
): Promise<TargetChoice> {
  const facts = await readFleetFacts(fleet, { cpuHost: vm.source });
  return targetFor(vm, facts, options);
}

/** The pure half of chooseTarget, over facts already read. */
export function targetFor(
  vm: VmToPlace,
  facts: PlacementInput,
  options: { strategy?: Strategy } = {},
): TargetChoice {
  if (facts.unreachable.includes(vm.source)) {
    throw unreadableHostError(
      `${vm.source} could not be read, so ${vm.name} cannot be placed`,
      facts.failures?.[vm.source],
      { code: 'host-unreadable', host: vm.source, vm: vm.name },
    );
  }
  const vmFacts = facts.vms.find((candidate) => candidate.uuid === vm.uuid);
  if (!vmFacts) throw new RehomeError(`${vm.name} is not in the inventory of ${vm.source}`, 'not-found');
  const decision = placeOne(vmFacts, facts.hosts, { strategy: options.strategy ?? 'spread', explain: true });
  if (decision.status === 'placed')
    return { target: decision.target, reason: decision.reason, warnings: decision.warnings };
  const skipped = (decision.explain ?? []).map(
    (candidate) =>
      `${candidate.host}: ${candidate.verdicts
        .filter((verdict) => verdict.status === 'skip' || verdict.status === 'error')
        .map((verdict) => `${verdict.filter}: ${verdict.reason}`)
        .join('; ')}`,
  );
  const unreachable = facts.unreachable.map((host) => `${host}: could not be read`);
  throw new RehomeError(
    `${vm.name} fits on no host: ${decision.blockers.map((b) => b.reason).join('; ')}${
      skipped.length + unreachable.length > 0 ? `\n  ${[...skipped, ...unreachable].join('\n  ')}` : ''
    }`,
    'blocked',
    [],
    { subject: { code: 'no-fit', vm: vm.name } },
  );
}

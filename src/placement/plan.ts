import { RehomeError } from '../errors.js';
import { vmBlockers } from './blockers.js';
import { bytesToCopy, diskNeedBytes } from './capacity.js';
import type { Choice } from './choice.js';
import { FastEngine } from './fast-engine.js';
import { FleetState } from './fleet-state.js';
import { noTargetReason, placedReason } from './reasons.js';
import { evaluateEveryHost } from './reference-engine.js';
import { planTotals } from './totals.js';
import type {
  CandidateExplain,
  Decision,
  DiskExplain,
  HostFacts,
  PlacementOptions,
  Plan,
  VmFacts,
} from './types.js';

/**
 * Places VMs one by one, largest memory first (then by name), each claiming its room before the next is placed. A
 * VM's source is its current host; hosts being emptied should be 'draining' or 'cordoned' so nothing lands on them.
 * Decisions come back in placement order.
 */
export function planPlacements(
  vms: readonly VmFacts[],
  hosts: readonly HostFacts[],
  options: PlacementOptions = {},
): Plan {
  const strategy = options.strategy ?? 'spread';
  const labelRules = options.labelRules ?? [];
  const explain = options.explain === true;
  const state = new FleetState(hosts);
  const fast =
    explain || options.engine === 'reference' ? undefined : new FastEngine(state, strategy, labelRules);
  const decisions: Decision[] = [];
  for (const vm of placementOrder(vms)) {
    const base = {
      vm: vm.name,
      uuid: vm.uuid,
      source: vm.host,
      memoryKiB: vm.memoryKiB,
      vcpus: vm.vcpus,
      bytesToCopy: bytesToCopy(vm),
      ...(explain ? { disks: explainDisks(vm) } : {}),
    };
    const blockers = vmBlockers(vm);
    if (blockers.length > 0) {
      decisions.push({ ...base, status: 'blocked', blockers });
      continue;
    }
    const sourceIndex = state.indexOf(vm.host);
    const source = sourceIndex >= 0 ? state.hosts[sourceIndex] : undefined;
    const need = diskNeedBytes(vm);
    let choice: Choice | undefined;
    let candidates: CandidateExplain[] | undefined;
    let skippedBy: Map<string, number> | undefined;
    if (fast) {
      choice = fast.choose(vm, source, need);
      if (!choice) skippedBy = fast.skippedBy(vm, source, need);
    } else {
      const result = evaluateEveryHost(vm, source, state, strategy, labelRules, explain);
      ({ choice, candidates, skippedBy } = result);
    }
    if (!choice) {
      const reason = noTargetReason(state.hosts.length, skippedBy ?? new Map());
      const blocked: Decision = { ...base, status: 'blocked', blockers: [{ kind: 'no-target', reason }] };
      if (candidates) blocked.explain = candidates;
      decisions.push(blocked);
      continue;
    }
    const target = (state.hosts[choice.index] as HostFacts).name;
    state.claim(choice.index, vm, need);
    const decision: Decision = {
      ...base,
      status: 'placed',
      target,
      reason: placedReason(target, choice.score, strategy),
      warnings: choice.warnings,
      score: choice.score,
    };
    if (candidates) decision.explain = candidates;
    decisions.push(decision);
  }
  return { strategy, decisions, totals: planTotals(decisions, options.linkBytesPerSecond) };
}

/** The plan for emptying one host: every VM given must run on it. */
export function planDrain(
  sourceHost: string,
  vms: readonly VmFacts[],
  hosts: readonly HostFacts[],
  options: PlacementOptions = {},
): Plan {
  if (!hosts.some((host) => host.name === sourceHost)) {
    throw new RehomeError(`host ${sourceHost} is not in the inventory`, 'not-found', [], {
      subject: { code: 'unknown-host', host: sourceHost },
    });
  }
  const strays = vms.filter((vm) => vm.host !== sourceHost).map((vm) => `${vm.name} (on ${vm.host})`);
  if (strays.length > 0)
    throw new Error(`planDrain(${sourceHost}) was given VMs of other hosts: ${strays.join(', ')}`);
  return planPlacements(vms, hosts, options);
}

/** A target for one VM (`rehome migrate VM` without --to). */
export function placeOne(vm: VmFacts, hosts: readonly HostFacts[], options: PlacementOptions = {}): Decision {
  return planPlacements([vm], hosts, options).decisions[0] as Decision;
}

function placementOrder(vms: readonly VmFacts[]): VmFacts[] {
  return [...vms].sort(
    (a, b) =>
      b.memoryKiB - a.memoryKiB || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || cmp(a.uuid, b.uuid),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The disk policy's decision for each disk, as the inventory recorded it. */
function explainDisks(vm: VmFacts): DiskExplain[] {
  return vm.disks.map((disk) => ({
    target: disk.target,
    action: disk.action ?? disk.kind,
    code: disk.code ?? disk.kind,
    reason: disk.reason ?? disk.note ?? '',
  }));
}

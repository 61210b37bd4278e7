import { diskFits, fitsUnder, freeFractionAfter } from './capacity.js';
import type { Choice } from './choice.js';
import { STATIC_FILTERS, type StaticFilter } from './filters/index.js';
import { passes } from './filters/verdict.js';
import type { FleetState } from './fleet-state.js';
import type { FilterContext, HostFacts, HostLoad, LabelRule, Strategy, VmFacts } from './types.js';

/** Hosts that pass every static filter for one class of VMs, in name order. */
interface StaticCandidates {
  /** Passed with no warning: tried first. */
  clean: Int32Array;
  /** Passed with warnings: tried only when no clean host fits. */
  warned: Int32Array;
  warnings: Map<number, string[]>;
}

const PASSED = 0;
const WARNED = 1;
const FAILED = 2;

interface HostVerdicts {
  filter: string;
  /** PASSED, WARNED or FAILED, by host index. */
  status: Uint8Array;
  /** Warning reasons, by host index. */
  notes: Map<number, string>;
}

// Static filters never read the load; they get this placeholder.
const NO_LOAD: HostLoad = {
  memoryCapacityKiB: 0,
  memoryCommittedKiB: 0,
  vcpuCapacity: 0,
  vcpusCommitted: 0,
  diskFreeBytes: 0,
  diskHeadroomBytes: 0,
  diskClaimedBytes: 0,
  groups: new Map(),
};

/**
 * Same decisions as evaluateEveryHost, without a verdict object per (VM, host) pair. Each static filter runs once per
 * host and per value of its key (CPU definition and source CPU, NICs, label requirements); a class of VMs with the same
 * keys gets the hosts that pass them all. The per-pair work is a scan of those hosts through typed arrays, with the
 * capacity arithmetic of capacity.ts and a lazy score comparison.
 * Returns undefined when no host fits; the caller then asks the reference engine why.
 */
export class FastEngine {
  private readonly classes = new Map<string, StaticCandidates>();
  private readonly byFilter = STATIC_FILTERS.map(() => new Map<string, HostVerdicts>());

  constructor(
    private readonly state: FleetState,
    private readonly strategy: Strategy,
    private readonly labelRules: readonly LabelRule[],
  ) {}

  choose(vm: VmFacts, source: HostFacts | undefined, diskNeed: number): Choice | undefined {
    const candidates = this.candidatesFor(vm, source);
    const sourceIndex = this.state.indexOf(vm.host);
    const groups = vm.antiAffinity && vm.antiAffinity.length > 0 ? vm.antiAffinity : undefined;
    const clean = this.scan(candidates.clean, vm, sourceIndex, diskNeed, groups);
    if (clean >= 0) return this.choiceAt(clean, vm, diskNeed, []);
    const warned = this.scan(candidates.warned, vm, sourceIndex, diskNeed, groups);
    if (warned >= 0) return this.choiceAt(warned, vm, diskNeed, candidates.warnings.get(warned) ?? []);
    return undefined;
  }

  /**
   * Why no host fits, as evaluateEveryHost counts it: the hosts each filter takes out of the running, a host counting
   * under every filter it fails.
   */
  skippedBy(vm: VmFacts, source: HostFacts | undefined, diskNeed: number): Map<string, number> {
    const s = this.state;
    const counts = new Map<string, number>();
    const count = (filter: string) => counts.set(filter, (counts.get(filter) ?? 0) + 1);
    const perFilter = this.keysOf(vm, source).map((key, f) => this.verdictsFor(f, key, vm, source));
    const sourceIndex = s.indexOf(vm.host);
    const groups = vm.antiAffinity ?? [];
    for (let i = 0; i < s.hosts.length; i++) {
      if (i === sourceIndex) count('not-source');
      for (const { filter, status } of perFilter) if (status[i] === FAILED) count(filter);
      if (!fitsUnder(s.memoryCommitted[i] as number, vm.memoryKiB, s.memoryCapacity[i] as number))
        count('memory');
      if (!fitsUnder(s.vcpusCommitted[i] as number, vm.vcpus, s.vcpuCapacity[i] as number)) count('vcpus');
      const diskRoom = diskFits(
        s.diskClaimed[i] as number,
        diskNeed,
        s.diskHeadroom[i] as number,
        s.diskFree[i] as number,
      );
      if (diskNeed > 0 && !diskRoom) count('disk');
      if (groups.length > 0 && this.hasConflict(i, vm.name, groups)) count('anti-affinity');
    }
    return counts;
  }

  private scan(
    hosts: Int32Array,
    vm: VmFacts,
    sourceIndex: number,
    diskNeed: number,
    groups: readonly string[] | undefined,
  ): number {
    const s = this.state;
    const {
      memoryCapacity,
      memoryCommitted,
      vcpuCapacity,
      vcpusCommitted,
      diskFree,
      diskClaimed,
      diskHeadroom,
    } = s;
    const memory = vm.memoryKiB;
    const vcpus = vm.vcpus;
    const spread = this.strategy === 'spread';
    let best = -1;
    let bestMemory = 0;
    for (let k = 0; k < hosts.length; k++) {
      const i = hosts[k] as number;
      if (i === sourceIndex) continue;
      const memCap = memoryCapacity[i] as number;
      const memUsed = memoryCommitted[i] as number;
      if (!fitsUnder(memUsed, memory, memCap)) continue;
      if (!fitsUnder(vcpusCommitted[i] as number, vcpus, vcpuCapacity[i] as number)) continue;
      if (
        diskNeed > 0 &&
        !diskFits(diskClaimed[i] as number, diskNeed, diskHeadroom[i] as number, diskFree[i] as number)
      )
        continue;
      if (groups && this.hasConflict(i, vm.name, groups)) continue;
      const memoryLeft = freeFractionAfter(memCap, memUsed, memory);
      if (best >= 0) {
        if (memoryLeft === bestMemory) {
          if (!this.tieBeats(i, best, vcpus, diskNeed, spread)) continue;
        } else if (spread ? memoryLeft < bestMemory : memoryLeft > bestMemory) {
          continue;
        }
      }
      best = i;
      bestMemory = memoryLeft;
    }
    return best;
  }

  /** Equal memory fractions: vCPU, then disk; still equal keeps the earlier host (name order). */
  private tieBeats(i: number, best: number, vcpus: number, diskNeed: number, spread: boolean): boolean {
    const s = this.state;
    const vcpuA = freeFractionAfter(s.vcpuCapacity[i] as number, s.vcpusCommitted[i] as number, vcpus);
    const vcpuB = freeFractionAfter(s.vcpuCapacity[best] as number, s.vcpusCommitted[best] as number, vcpus);
    if (vcpuA !== vcpuB) return spread ? vcpuA > vcpuB : vcpuA < vcpuB;
    const diskA = freeFractionAfter(s.diskFree[i] as number, s.diskClaimed[i] as number, diskNeed);
    const diskB = freeFractionAfter(s.diskFree[best] as number, s.diskClaimed[best] as number, diskNeed);
    if (diskA !== diskB) return spread ? diskA > diskB : diskA < diskB;
    return false;
  }

  private hasConflict(i: number, vmName: string, groups: readonly string[]): boolean {
    const held = this.state.groups[i];
    if (!held) return false;
    for (const group of groups) {
      const holder = held.get(group);
      if (holder !== undefined && holder !== vmName) return true;
    }
    return false;
  }

  private choiceAt(i: number, vm: VmFacts, diskNeed: number, warnings: string[]): Choice {
    const s = this.state;
    return {
      index: i,
      score: {
        memory: freeFractionAfter(
          s.memoryCapacity[i] as number,
          s.memoryCommitted[i] as number,
          vm.memoryKiB,
        ),
        vcpu: freeFractionAfter(s.vcpuCapacity[i] as number, s.vcpusCommitted[i] as number, vm.vcpus),
        disk: freeFractionAfter(s.diskFree[i] as number, s.diskClaimed[i] as number, diskNeed),
      },
      warnings,
    };
  }

  private candidatesFor(vm: VmFacts, source: HostFacts | undefined): StaticCandidates {
    const keys = this.keysOf(vm, source);
    const classKey = keys.join('\u0001');
    let found = this.classes.get(classKey);
    if (!found) {
      found = this.combine(keys.map((key, f) => this.verdictsFor(f, key, vm, source)));
      this.classes.set(classKey, found);
    }
    return found;
  }

  private keysOf(vm: VmFacts, source: HostFacts | undefined): string[] {
    return STATIC_FILTERS.map(({ key }) => key(vm, source, this.labelRules));
  }

  /** One static filter's verdicts for every host, for VMs with this key. */
  private verdictsFor(f: number, key: string, vm: VmFacts, source: HostFacts | undefined): HostVerdicts {
    const cache = this.byFilter[f] as Map<string, HostVerdicts>;
    let verdicts = cache.get(key);
    if (!verdicts) {
      const filter = (STATIC_FILTERS[f] as StaticFilter).filter;
      const ctx: FilterContext = { source, load: NO_LOAD, labelRules: this.labelRules };
      const status = new Uint8Array(this.state.hosts.length);
      const notes = new Map<number, string>();
      let name = '';
      this.state.hosts.forEach((host, i) => {
        const verdict = filter(vm, host, ctx);
        name = verdict.filter;
        status[i] = passes(verdict) ? (verdict.status === 'warning' ? WARNED : PASSED) : FAILED;
        if (verdict.status === 'warning') notes.set(i, verdict.reason);
      });
      verdicts = { filter: name, status, notes };
      cache.set(key, verdicts);
    }
    return verdicts;
  }

  private combine(perFilter: HostVerdicts[]): StaticCandidates {
    const clean: number[] = [];
    const warned: number[] = [];
    const warnings = new Map<number, string[]>();
    for (let i = 0; i < this.state.hosts.length; i++) {
      let worst = PASSED;
      for (const { status } of perFilter) worst = Math.max(worst, status[i] as number);
      if (worst === PASSED) clean.push(i);
      if (worst !== WARNED) continue;
      warned.push(i);
      warnings.set(
        i,
        perFilter.flatMap(({ notes }) => notes.get(i) ?? []),
      );
    }
    return { clean: Int32Array.from(clean), warned: Int32Array.from(warned), warnings };
  }
}

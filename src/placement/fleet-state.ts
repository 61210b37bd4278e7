import { diskHeadroomBytes, memoryCapacityKiB, vcpuCapacity } from './capacity.js';
import type { HostFacts, HostLoad, VmFacts } from './types.js';

/**
 * Capacity of every host and what is committed on it, updated as a plan claims room. Hosts are kept sorted by name,
 * so that a host's index is also its rank in the deterministic tie-break. Numbers live in typed arrays: the fast
 * engine reads them for every (VM, host) pair.
 */
export class FleetState {
  readonly hosts: readonly HostFacts[];
  readonly memoryCapacity: Float64Array;
  readonly memoryCommitted: Float64Array;
  readonly vcpuCapacity: Float64Array;
  readonly vcpusCommitted: Float64Array;
  readonly diskFree: Float64Array;
  readonly diskHeadroom: Float64Array;
  readonly diskClaimed: Float64Array;
  /** Per host: anti-affinity group → the guest or planned VM that holds it. */
  readonly groups: Array<Map<string, string> | undefined>;
  private readonly indexByName: Map<string, number>;

  constructor(hosts: readonly HostFacts[]) {
    this.hosts = [...hosts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const n = this.hosts.length;
    this.memoryCapacity = new Float64Array(n);
    this.memoryCommitted = new Float64Array(n);
    this.vcpuCapacity = new Float64Array(n);
    this.vcpusCommitted = new Float64Array(n);
    this.diskFree = new Float64Array(n);
    this.diskHeadroom = new Float64Array(n);
    this.diskClaimed = new Float64Array(n);
    this.groups = new Array(n);
    this.indexByName = new Map();
    for (let i = 0; i < n; i++) {
      const host = this.hosts[i] as HostFacts;
      if (this.indexByName.has(host.name)) throw new Error(`duplicate host in placement input: ${host.name}`);
      this.indexByName.set(host.name, i);
      this.memoryCapacity[i] = memoryCapacityKiB(host);
      this.vcpuCapacity[i] = vcpuCapacity(host);
      this.diskFree[i] = host.imageDirFreeBytes;
      this.diskHeadroom[i] = diskHeadroomBytes(host);
      let memory = 0;
      let vcpus = 0;
      for (const guest of host.guests) {
        memory += guest.memoryKiB;
        vcpus += guest.vcpus;
        for (const group of guest.antiAffinity ?? []) this.addGroup(i, group, guest.name);
      }
      this.memoryCommitted[i] = memory;
      this.vcpusCommitted[i] = vcpus;
    }
  }

  indexOf(name: string): number {
    return this.indexByName.get(name) ?? -1;
  }

  /** A snapshot for the filters (allocates: for the reference engine and explain only). */
  loadOf(i: number): HostLoad {
    return {
      memoryCapacityKiB: this.memoryCapacity[i] as number,
      memoryCommittedKiB: this.memoryCommitted[i] as number,
      vcpuCapacity: this.vcpuCapacity[i] as number,
      vcpusCommitted: this.vcpusCommitted[i] as number,
      diskFreeBytes: this.diskFree[i] as number,
      diskHeadroomBytes: this.diskHeadroom[i] as number,
      diskClaimedBytes: this.diskClaimed[i] as number,
      groups: this.groups[i] ?? new Map(),
    };
  }

  /** Record a planned placement, so later VMs of the plan see the room it takes. */
  claim(i: number, vm: VmFacts, diskNeed: number): void {
    this.memoryCommitted[i] = (this.memoryCommitted[i] as number) + vm.memoryKiB;
    this.vcpusCommitted[i] = (this.vcpusCommitted[i] as number) + vm.vcpus;
    this.diskClaimed[i] = (this.diskClaimed[i] as number) + diskNeed;
    for (const group of vm.antiAffinity ?? []) this.addGroup(i, group, vm.name);
  }

  private addGroup(i: number, group: string, holder: string): void {
    let groups = this.groups[i];
    if (!groups) {
      groups = new Map();
      this.groups[i] = groups;
    }
    if (!groups.has(group)) groups.set(group, holder);
  }
}

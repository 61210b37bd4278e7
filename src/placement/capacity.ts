import type { HostFacts, VmFacts } from './types.js';

/** (total − reserved) × overcommit. */
export function memoryCapacityKiB(host: HostFacts): number {
  return Math.max(0, host.memoryKiB - host.policy.reservedMemoryKiB) * host.policy.memoryOvercommit;
}

export function vcpuCapacity(host: HostFacts): number {
  return host.cores * host.policy.cpuOvercommit;
}

export function diskHeadroomBytes(host: HostFacts): number {
  const { diskHeadroomBytes = 0, diskHeadroomRatio = 0 } = host.policy;
  return diskHeadroomBytes + diskHeadroomRatio * host.imageDirFreeBytes;
}

/** Space the VM needs on the target: the virtual size of every local disk, since a qcow2 may grow to it. */
export function diskNeedBytes(vm: VmFacts): number {
  let sum = 0;
  for (const disk of vm.disks) if (disk.kind === 'local') sum += disk.virtualSizeBytes;
  return sum;
}

/** What the mirror copies: the allocated part of the local disks. */
export function bytesToCopy(vm: VmFacts): number {
  let sum = 0;
  for (const disk of vm.disks) if (disk.kind === 'local') sum += disk.allocatedBytes;
  return sum;
}

/*
 * The fast engine and the filters both decide with these, so that they agree to the last floating-point bit.
 */

export function fitsUnder(committed: number, need: number, capacity: number): boolean {
  return committed + need <= capacity;
}

export function diskFits(claimed: number, need: number, headroom: number, free: number): boolean {
  return claimed + need + headroom <= free;
}

/** Fraction of capacity left after adding need; an empty capacity counts as nothing left. */
export function freeFractionAfter(capacity: number, committed: number, need: number): number {
  return capacity > 0 ? (capacity - committed - need) / capacity : 0;
}

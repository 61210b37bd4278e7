import type { Blocker, VmFacts } from './types.js';

const MOVABLE_NICS = new Set(['bridge', 'network', 'user']);

/**
 * What stops a VM from moving before any host is looked at:
 * - passthrough devices (<hostdev>) are tied to a physical device of the source;
 * - unsupported disks (a host block device, a LUN): nothing in rehome can mirror them;
 * - NICs other than bridge, network or user: direct (macvtap) and hostdev NICs hang on a physical interface or device
 *   of the source, ethernet and vhostuser ones on host-side plumbing that rehome cannot see or recreate.
 * Disks of kind 'skip' are ignored and network disks are kept as they are, so neither blocks.
 */
export function vmBlockers(vm: VmFacts): Blocker[] {
  const blockers: Blocker[] = [];
  const badFacts = invalidVmFacts(vm);
  if (badFacts.length > 0) {
    blockers.push({ kind: 'facts', reason: `VM facts are incomplete or invalid: ${badFacts.join(', ')}` });
  }
  if (vm.hostdevs > 0) {
    blockers.push({
      kind: 'passthrough',
      reason: `${vm.hostdevs} passthrough device${vm.hostdevs === 1 ? '' : 's'} (hostdev) tied to the source host`,
    });
  }
  for (const disk of vm.disks) {
    if (disk.kind === 'unsupported') {
      blockers.push({
        kind: 'disk',
        reason: `disk ${disk.target} cannot be moved${disk.note ? `: ${disk.note}` : ''}`,
        ...(disk.code ? { code: disk.code } : {}),
      });
    }
  }
  for (const nic of vm.nics) {
    if (!MOVABLE_NICS.has(nic.type)) {
      blockers.push({
        kind: 'nic',
        reason: `NIC ${nic.mac} is of type ${nic.type} (${nic.source || 'no source'}); only bridge, network and user NICs move`,
      });
    }
  }
  return blockers;
}

function invalidVmFacts(vm: VmFacts): string[] {
  const bad: string[] = [];
  if (!(Number.isFinite(vm.memoryKiB) && vm.memoryKiB >= 0)) bad.push(`memoryKiB=${vm.memoryKiB}`);
  if (!(Number.isFinite(vm.vcpus) && vm.vcpus >= 0)) bad.push(`vcpus=${vm.vcpus}`);
  for (const disk of vm.disks) {
    if (disk.kind !== 'local') continue;
    if (!(Number.isFinite(disk.virtualSizeBytes) && disk.virtualSizeBytes >= 0)) {
      bad.push(`disk ${disk.target} virtualSizeBytes=${disk.virtualSizeBytes}`);
    }
    if (!(Number.isFinite(disk.allocatedBytes) && disk.allocatedBytes >= 0)) {
      bad.push(`disk ${disk.target} allocatedBytes=${disk.allocatedBytes}`);
    }
  }
  return bad;
}

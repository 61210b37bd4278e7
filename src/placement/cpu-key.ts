import type { GuestCpu, HostCpu } from './types.js';

/**
 * The key under which the caller stores compare-hypervisor-CPU verdicts in HostFacts.cpuCompare. Features are sorted so
 * that the same definition always gives the same key.
 */
export function guestCpuKey(cpu: GuestCpu): string {
  const features = [...(cpu.features ?? [])].sort().join(',');
  return `${cpu.mode}|${cpu.model ?? ''}|${features}`;
}

const signatures = new WeakMap<HostCpu, string>();

/**
 * Vendor, model and flags: two hosts with the same signature can take each other's host-passthrough guests. Cached
 * per object, since a plan asks for it once per VM.
 */
export function hostCpuSignature(cpu: HostCpu): string {
  let signature = signatures.get(cpu);
  if (signature === undefined) {
    signature = `${cpu.vendor}|${cpu.model}|${[...cpu.features].sort().join(',')}`;
    signatures.set(cpu, signature);
  }
  return signature;
}

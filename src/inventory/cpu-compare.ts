import { guestCpuKey } from '../placement/cpu-key.js';
import type { CpuCompareVerdict, GuestCpu, HostFacts, VmFacts } from '../placement/types.js';

/**
 * libvirt's compare-hypervisor-CPU on one host for a domain type (`kvm`, `qemu`): CpuCompareResult (-1 error,
 * 0 incompatible, 1 identical, 2 superset).
 */
export type CompareCpu = (host: string, cpuXml: string, virtType: string | undefined) => Promise<number>;

const VERDICTS: Record<number, CpuCompareVerdict> = { 0: 'incompatible', 1: 'identical', 2: 'superset' };

/**
 * Asks every host about every distinct custom CPU definition among the VMs, so that placement's CPU filter has its
 * verdicts. A custom CPU without a model is QEMU's default CPU, which every host of the architecture runs. A failed
 * comparison is `unknown`: the filter then skips that host, with the reason. The comparison is made for the domain
 * type of the first VM with that definition (a TCG guest's qemu64 is not a KVM host's qemu64).
 */
export async function compareGuestCpus(
  vms: readonly VmFacts[],
  hosts: readonly HostFacts[],
  compare: CompareCpu,
  virtTypes: ReadonlyMap<string, string> = new Map(),
): Promise<HostFacts[]> {
  const cpus = new Map<string, { cpu: GuestCpu; virtType: string | undefined }>();
  for (const vm of vms) {
    const key = guestCpuKey(vm.cpu);
    if (vm.cpu.mode === 'custom' && !cpus.has(key))
      cpus.set(key, { cpu: vm.cpu, virtType: virtTypes.get(vm.uuid) });
  }
  return Promise.all(
    hosts.map(async (host) => {
      const verdicts: Record<string, CpuCompareVerdict> = { ...host.cpuCompare };
      for (const [key, { cpu, virtType }] of cpus) {
        if (!cpu.model) {
          verdicts[key] = 'superset';
          continue;
        }
        verdicts[key] = await compare(host.name, customCpuXml(cpu), virtType).then(
          (result) => VERDICTS[result] ?? 'unknown',
          () => 'unknown' as const,
        );
      }
      return { ...host, cpuCompare: verdicts };
    }),
  );
}

export function customCpuXml(cpu: GuestCpu): string {
  const features = (cpu.features ?? [])
    .map((name) => `<feature policy='require' name='${escapeXml(name)}'/>`)
    .join('');
  return `<cpu mode='custom' match='exact'><model fallback='forbid'>${escapeXml(cpu.model ?? '')}</model>${features}</cpu>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

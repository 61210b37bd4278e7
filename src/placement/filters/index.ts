import { guestCpuKey, hostCpuSignature } from '../cpu-key.js';
import type { Filter, HostFacts, LabelRule, VmFacts } from '../types.js';
import { antiAffinityFilter } from './anti-affinity.js';
import { cpuFilter } from './cpu.js';
import { diskFilter } from './disk.js';
import { firmwareClassKey, firmwareFilter } from './firmware.js';
import { hostStateFilter, notSourceFilter } from './host-state.js';
import { labelRequirements, labelsFilter } from './labels.js';
import { memoryFilter } from './memory.js';
import { networksFilter } from './networks.js';
import { storageClassKey, storageFilter } from './storage.js';
import { vcpusFilter } from './vcpus.js';

/** A filter whose verdict depends only on the host's facts and on what its key captures of the VM and its source. */
export interface StaticFilter {
  filter: Filter;
  key: (vm: VmFacts, source: HostFacts | undefined, rules: readonly LabelRule[]) => string;
}

/** The fast engine runs each of these once per (key, host) and caches the verdicts. */
export const STATIC_FILTERS: readonly StaticFilter[] = [
  { filter: hostStateFilter, key: () => '' },
  { filter: cpuFilter, key: cpuClassKey },
  { filter: networksFilter, key: nicsClassKey },
  { filter: labelsFilter, key: labelsClassKey },
  { filter: firmwareFilter, key: firmwareClassKey },
  { filter: storageFilter, key: storageClassKey },
];

/** In the order an operator reads them in --explain. */
export const FILTERS: readonly Filter[] = [
  notSourceFilter,
  hostStateFilter,
  cpuFilter,
  firmwareFilter,
  memoryFilter,
  vcpusFilter,
  diskFilter,
  storageFilter,
  networksFilter,
  labelsFilter,
  antiAffinityFilter,
];

function cpuClassKey(vm: VmFacts, source: HostFacts | undefined): string {
  const mode = vm.cpu.mode;
  if (mode === 'host-passthrough' || mode === 'host-model') {
    return `${mode}@${source ? hostCpuSignature(source.cpu) : `unknown ${vm.host}`}`;
  }
  return mode === 'custom' ? guestCpuKey(vm.cpu) : `other:${mode}`;
}

function nicsClassKey(vm: VmFacts): string {
  if (vm.nics.length === 1) return `${vm.nics[0]?.type}:${vm.nics[0]?.source}`;
  return vm.nics
    .map((nic) => `${nic.type}:${nic.source}`)
    .sort()
    .join(',');
}

function labelsClassKey(vm: VmFacts, source: HostFacts | undefined, rules: readonly LabelRule[]): string {
  const labels = labelRequirements(vm, source, rules);
  if (typeof labels === 'string') return `unresolved@${vm.host}`;
  return labels
    .map((r) => `${r.key}=${r.value ?? '\u0000'}/${r.why}`)
    .sort()
    .join(',');
}

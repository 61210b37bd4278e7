import type { FilterContext, HostFacts, HostLoad, VmFacts } from '../../src/placement/types.js';

export const GiB = 1024 * 1024; // in KiB
export const GB = 1e9;

export const INTEL = { vendor: 'Intel', model: 'Icelake-Server', features: ['avx2', 'sse4.2', 'vmx'] };
export const AMD = { vendor: 'AMD', model: 'EPYC-Milan', features: ['avx2', 'sse4.2', 'svm'] };

export function host(name: string, overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    name,
    state: 'active',
    labels: { zone: 'a' },
    cpu: INTEL,
    cores: 16,
    memoryKiB: 64 * GiB,
    policy: { reservedMemoryKiB: 0, memoryOvercommit: 1, cpuOvercommit: 1, diskHeadroomBytes: 0 },
    imageDirFreeBytes: 1000 * GB,
    bridges: ['br0'],
    networks: ['default'],
    guests: [],
    ...overrides,
  };
}

export function vm(name: string, overrides: Partial<VmFacts> = {}): VmFacts {
  return {
    name,
    uuid: `uuid-${name}`,
    host: 'src',
    vcpus: 2,
    memoryKiB: 4 * GiB,
    cpu: { mode: 'host-model' },
    disks: [{ target: 'vda', kind: 'local', virtualSizeBytes: 20 * GB, allocatedBytes: 5 * GB }],
    nics: [{ mac: '52:54:00:00:00:01', type: 'bridge', source: 'br0' }],
    hostdevs: 0,
    ...overrides,
  };
}

export function load(overrides: Partial<HostLoad> = {}): HostLoad {
  return {
    memoryCapacityKiB: 64 * GiB,
    memoryCommittedKiB: 0,
    vcpuCapacity: 16,
    vcpusCommitted: 0,
    diskFreeBytes: 1000 * GB,
    diskHeadroomBytes: 0,
    diskClaimedBytes: 0,
    groups: new Map(),
    ...overrides,
  };
}

export function ctx(overrides: Partial<FilterContext> = {}): FilterContext {
  return { source: host('src'), load: load(), labelRules: [], ...overrides };
}

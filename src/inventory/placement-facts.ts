/** Inventory facts into the shapes placement consumes (src/placement/types.ts). Pure. */
import type { RehomeConfig } from '../config/schema.js';
import type { FirmwareInfo } from '../libvirt/domain-xml.js';
import type {
  DiskFacts,
  DiskKind,
  GuestLoad,
  HostFacts,
  HostPolicy,
  NicFacts,
  VmFacts,
  VmFirmware,
} from '../placement/types.js';
import type { DiskFactsReport, DomainFacts, HostFactsReport, HostFailure, Inventory } from './types.js';

/**
 * Used for every key the config's `placement` section leaves out:
 * - 1 GiB of memory kept for the host itself;
 * - no memory overcommit (guest memory ≤ total − reserved);
 * - 4 guest vCPUs per logical CPU;
 * - 10 % of the image directory's free space always left free.
 */
export const DEFAULT_PLACEMENT_POLICY: Readonly<HostPolicy> = {
  reservedMemoryKiB: 1024 * 1024,
  memoryOvercommit: 1,
  cpuOvercommit: 4,
  diskHeadroomBytes: 0,
  diskHeadroomRatio: 0.1,
};

/** Guests in these states hold memory and vCPUs on their host; shut-off ones do not. */
const ACTIVE_STATES = new Set(['running', 'blocked', 'paused', 'shutdown', 'pmsuspended']);

export interface PlacementInput {
  hosts: HostFacts[];
  vms: VmFacts[];
  /** Hosts the inventory could not read: neither sources nor targets. */
  unreachable: string[];
  /** Why each of them could not be read (a refused host key is not an unreachable host). */
  failures?: Record<string, HostFailure['error']>;
}

export function policyFromConfig(config: Pick<RehomeConfig, 'placement'>): HostPolicy {
  const section = config.placement ?? {};
  const policy: HostPolicy = { ...DEFAULT_PLACEMENT_POLICY };
  if (section.reservedMemoryMiB !== undefined) policy.reservedMemoryKiB = section.reservedMemoryMiB * 1024;
  if (section.memoryOvercommit !== undefined) policy.memoryOvercommit = section.memoryOvercommit;
  if (section.cpuOvercommit !== undefined) policy.cpuOvercommit = section.cpuOvercommit;
  if (section.diskHeadroomBytes !== undefined) policy.diskHeadroomBytes = section.diskHeadroomBytes;
  if (section.diskHeadroomRatio !== undefined) policy.diskHeadroomRatio = section.diskHeadroomRatio;
  return policy;
}

export function toPlacementFacts(
  inventory: Inventory,
  config: Pick<RehomeConfig, 'hosts' | 'placement'>,
): PlacementInput {
  const policy = policyFromConfig(config);
  const input: PlacementInput = { hosts: [], vms: [], unreachable: [] };
  for (const host of inventory.hosts) {
    if (!host.ok) {
      input.unreachable.push(host.name);
      input.failures = { ...input.failures, [host.name]: host.error };
      continue;
    }
    const labels = config.hosts.find((entry) => entry.name === host.name)?.labels ?? {};
    input.hosts.push(hostFacts(host, labels, policy));
    for (const domain of host.domains) input.vms.push(vmFacts(domain, host.name));
  }
  return input;
}

function hostFacts(host: HostFactsReport, labels: Record<string, string>, policy: HostPolicy): HostFacts {
  return {
    name: host.name,
    state: 'active',
    labels: { ...labels },
    cpu: { model: host.cpu.model, vendor: host.cpu.vendor, features: host.cpu.features },
    cores: host.cores,
    memoryKiB: host.memoryKiB,
    policy: { ...policy },
    // Unknown free space counts as none: nothing is placed on a disk nobody measured.
    imageDirFreeBytes: host.imageDirFreeBytes ?? 0,
    bridges: host.bridges,
    networks: host.networks.filter((network) => network.active).map((network) => network.name),
    guests: host.domains.filter((domain) => ACTIVE_STATES.has(domain.state)).map(guestLoad),
    ...(host.machineTypes ? { firmware: { machineTypes: host.machineTypes } } : {}),
    ...(host.storagePools
      ? { storagePools: Object.fromEntries(host.storagePools.map((pool) => [pool.name, pool.volumes])) }
      : {}),
  };
}

function guestLoad(domain: DomainFacts): GuestLoad {
  return { name: domain.name, vcpus: domain.vcpus.current, memoryKiB: domain.memoryKiB.max };
}

export function vmFacts(domain: DomainFacts, host: string): VmFacts {
  return {
    name: domain.name,
    uuid: domain.uuid,
    host,
    vcpus: domain.vcpus.current,
    memoryKiB: domain.memoryKiB.max,
    cpu: {
      mode: domain.cpu.mode ?? 'custom',
      ...(domain.cpu.model ? { model: domain.cpu.model } : {}),
      features: domain.cpu.features
        .filter(
          (feature) =>
            feature.policy === undefined || feature.policy === 'require' || feature.policy === 'force',
        )
        .map((feature) => feature.name),
    },
    disks: domain.disks.map(diskFacts),
    nics: domain.nics.map(nicFacts),
    hostdevs: domain.hostdevs.length,
    ...(domain.firmware ? { firmware: vmFirmware(domain.firmware) } : {}),
  };
}

function vmFirmware(info: FirmwareInfo): VmFirmware {
  const firmware: VmFirmware = {};
  if (info.arch) firmware.arch = info.arch;
  if (info.machine) firmware.machine = info.machine;
  if (info.loader) firmware.loader = info.loader;
  if (info.nvram) firmware.nvram = info.nvram;
  if (info.tpm) firmware.tpm = true;
  return firmware;
}

export function diskFacts(disk: DiskFactsReport): DiskFacts {
  const { kind, note, code } = diskKind(disk);
  const facts: DiskFacts = {
    target: disk.target,
    kind,
    virtualSizeBytes: disk.virtualSizeBytes ?? 0,
    allocatedBytes: disk.allocatedBytes ?? 0,
  };
  if (note) facts.note = note;
  facts.code = code ?? disk.code;
  if (disk.intoVolume) facts.intoVolume = disk.intoVolume;
  facts.action = kind === 'unsupported' ? 'refuse' : disk.action;
  facts.reason = note ?? disk.reason;
  return facts;
}

/**
 * The disk policy's decision (src/disks, made by the inventory) as placement's kind: a refusal blocks with its reason
 * and code. One fact the policy cannot know is checked here: a disk to copy whose size could not be read.
 */
function diskKind(disk: DiskFactsReport): { kind: DiskKind; note?: string; code?: string } {
  if (disk.action === 'refuse') return { kind: 'unsupported', note: disk.reason, code: disk.code };
  if (disk.action === 'reattach') return { kind: 'network' };
  if (disk.action === 'leave-out') return { kind: 'skip' };
  if (disk.virtualSizeBytes === undefined) {
    return {
      kind: 'unsupported',
      note: `size of ${disk.source} unknown (is the image missing?)`,
      code: 'refuse-size-unknown',
    };
  }
  return { kind: 'local' };
}

function nicFacts(nic: DomainFacts['nics'][number]): NicFacts {
  const source =
    nic.type === 'bridge'
      ? nic.source.bridge
      : nic.type === 'network'
        ? nic.source.network
        : (nic.source.dev ?? nic.source.bridge ?? nic.source.network);
  return { mac: nic.mac ?? '', type: nic.type, source: source ?? '' };
}

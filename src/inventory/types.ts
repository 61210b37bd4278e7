/**
 * What `rehome inventory` reports. Plain JSON-safe values: sizes are numbers (bytes, or KiB where libvirt speaks
 * KiB), so the `--json` output is the same object.
 */
import type { DiskAction, DiskCode, DiskPolicyOptions } from '../disks/policy.js';
import type { ErrorKind } from '../errors.js';
import type { CpuInfo, DiskClass, FirmwareInfo, NicInfo } from '../libvirt/domain-xml.js';

export interface HostCpuFacts {
  arch: string;
  model: string;
  vendor: string;
  /** Features named in the capabilities XML (those beyond the model). */
  features: string[];
}

export interface Version {
  major: number;
  minor: number;
  micro: number;
  text: string;
}

export interface NetworkFacts {
  name: string;
  active: boolean;
  /** The Linux bridge the network uses, when it has one. */
  bridge?: string;
}

export type DomainStateName =
  | 'nostate'
  | 'running'
  | 'blocked'
  | 'paused'
  | 'shutdown'
  | 'shutoff'
  | 'crashed'
  | 'pmsuspended'
  | 'unknown';

export interface DiskFactsReport {
  target: string;
  device: string;
  type: string;
  /** The file, block device, or `protocol:name` of a network disk. */
  source: string;
  class: DiskClass;
  reason: string;
  /** The disk policy's decision (src/disks): copy, reattach, leave-out or refuse, with its stable code. */
  action: DiskAction;
  code: DiskCode;
  /** A copy into a new volume: the pool and name it needs on the target (free there). */
  intoVolume?: { pool: string; name: string };
  driverType?: string;
  /** Local disks only: the guest-visible size and the bytes allocated on the host. */
  virtualSizeBytes?: number;
  allocatedBytes?: number;
  readonly: boolean;
  shareable: boolean;
}

export interface StoragePoolFacts {
  name: string;
  volumes: string[];
}

export interface DomainFacts {
  name: string;
  uuid: string;
  state: DomainStateName;
  persistent: boolean;
  vcpus: { current: number; max: number };
  memoryKiB: { current: number; max: number };
  cpu: CpuInfo;
  nics: NicInfo[];
  disks: DiskFactsReport[];
  /** Passthrough devices, each described as "pci 0000:3b:00.1" and the like. */
  hostdevs: string[];
  owner?: string;
  /** Machine type, loader, NVRAM and emulated TPM, as the definition names them. */
  firmware?: FirmwareInfo;
  /** Facts that could not be read; the rest of the domain is still reported. */
  warnings: string[];
}

export interface HostFactsReport {
  name: string;
  ok: true;
  hostname: string;
  cpu: HostCpuFacts;
  /** Logical CPUs (node info). */
  cores: number;
  memoryKiB: number;
  freeMemoryKiB: number;
  imageDir: string;
  /** null when it could not be read (see warnings). */
  imageDirFreeBytes: number | null;
  bridges: string[];
  networks: NetworkFacts[];
  libvirtVersion: Version;
  qemuVersion: Version;
  /** Active libvirt storage pools and their volumes' names; missing when they could not be read. */
  storagePools?: StoragePoolFacts[];
  /** Machine types QEMU offers, by guest arch (from the capabilities). */
  machineTypes?: Record<string, string[]>;
  domains: DomainFacts[];
  warnings: string[];
  elapsedMs: number;
}

export interface HostFailure {
  name: string;
  ok: false;
  error: { message: string; kind: ErrorKind; hints: string[] };
  elapsedMs: number;
}

export type HostInventory = HostFactsReport | HostFailure;

export interface Inventory {
  hosts: HostInventory[];
}

export interface InventoryHost {
  name: string;
  /** Image directory whose free space is reported. */
  imageDir: string;
}

export interface InventoryCallbacks {
  onHostStart?: (host: string) => void;
  onHostDone?: (result: HostInventory) => void;
}

export interface InventoryOptions extends InventoryCallbacks {
  /** Paths under these prefixes are shared storage (storage.sharedPrefixes). */
  sharedPrefixes?: readonly string[];
  /** The disk policy's options (the config's storage section); sharedPrefixes alone when absent. */
  diskPolicy?: DiskPolicyOptions;
}

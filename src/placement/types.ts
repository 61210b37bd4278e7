/**
 * Placement's own view of the fleet. The caller maps inventory results into these shapes; placement never reaches a
 * host. All sizes are plain numbers: memory in KiB (as libvirt reports it), disk in bytes.
 */

export type HostState = 'active' | 'draining' | 'cordoned';

/** Verdict of libvirt's compare-hypervisor-CPU for one guest CPU definition on one host (computed by the caller). */
export type CpuCompareVerdict = 'identical' | 'superset' | 'incompatible' | 'unknown';

export interface HostCpu {
  model: string;
  vendor: string;
  features: readonly string[];
}

export interface HostPolicy {
  /** Memory kept for the host itself, never given to guests. */
  reservedMemoryKiB: number;
  /** Guest memory allowed per KiB of (total − reserved); 1 means no overcommit. */
  memoryOvercommit: number;
  /** Guest vCPUs allowed per logical CPU. */
  cpuOvercommit: number;
  /** Bytes always left free in the image directory. */
  diskHeadroomBytes?: number;
  /** Fraction of the image directory's current free space always left free (added to diskHeadroomBytes). */
  diskHeadroomRatio?: number;
}

/** A guest already on a host: it counts against the host's capacity and its anti-affinity groups. */
export interface GuestLoad {
  name: string;
  vcpus: number;
  memoryKiB: number;
  antiAffinity?: readonly string[];
}

export interface HostFacts {
  name: string;
  state: HostState;
  labels: Readonly<Record<string, string>>;
  cpu: HostCpu;
  /** Logical CPUs. */
  cores: number;
  memoryKiB: number;
  policy: HostPolicy;
  imageDirFreeBytes: number;
  bridges: readonly string[];
  networks: readonly string[];
  guests: readonly GuestLoad[];
  /** compare-hypervisor-CPU results on this host, keyed by guestCpuKey(vm.cpu). Missing means not compared. */
  cpuCompare?: Readonly<Record<string, CpuCompareVerdict>>;
  /** Active storage pools and their volumes' names; missing when not read. */
  storagePools?: Readonly<Record<string, readonly string[]>>;
  /** What the host offers the guests' firmware; missing parts were not read. */
  firmware?: HostFirmware;
}

/** A host's firmware facts, for the firmware filter. */
export interface HostFirmware {
  /** Machine types its QEMU offers, by guest arch (names and canonical names, from the capabilities). */
  machineTypes?: Readonly<Record<string, readonly string[]>>;
  /** Firmware files asked about (the loaders the fleet's guests use): whether each exists on the host. */
  files?: Readonly<Record<string, boolean>>;
  /** swtpm and swtpm_setup are installed (libvirt runs them for an emulated TPM). */
  swtpm?: boolean;
}

/** The guest's firmware needs (from its definition). */
export interface VmFirmware {
  arch?: string;
  machine?: string;
  /** The loader file, when the definition names one (not with `<os firmware='efi'>` autoselection). */
  loader?: string;
  /** A per-VM NVRAM file, carried at the cutover. */
  nvram?: string;
  /** An emulated TPM (swtpm), whose state is carried at the cutover. */
  tpm?: boolean;
}

export type CpuMode = 'host-passthrough' | 'host-model' | 'custom' | (string & {});

export interface GuestCpu {
  mode: CpuMode;
  model?: string;
  features?: readonly string[];
}

/**
 * local: a file image that is copied to the target. network: shared or network storage, kept as it is.
 * skip: nothing to move or check (an empty CD-ROM drive, media the inventory chose to drop).
 * unsupported: cannot be moved (a LUN, a shareable disk, a disk of unknown size, ...): a blocker. A local block device
 * is `local`: its mirror lands in a qcow2 file on the target.
 */
export type DiskKind = 'local' | 'network' | 'skip' | 'unsupported';

export interface DiskFacts {
  target: string;
  kind: DiskKind;
  virtualSizeBytes: number;
  allocatedBytes: number;
  /** Why the inventory called it unsupported, shown in the blocker. */
  note?: string;
  /** The disk policy's code for it (src/disks), e.g. `refuse-shareable-local`. */
  code?: string;
  /** The disk policy's action (copy, reattach, leave-out, refuse) and its reason, for explained plans. */
  action?: string;
  reason?: string;
  /** A copy into a new volume: the pool it needs on the target and the name that must be free there. */
  intoVolume?: { pool: string; name: string };
}

/** One disk's fate in an explained plan: the disk policy's decision. */
export interface DiskExplain {
  target: string;
  action: string;
  code: string;
  reason: string;
}

export type NicType = 'bridge' | 'network' | 'user' | 'direct' | 'hostdev' | 'ethernet' | (string & {});

export interface NicFacts {
  mac: string;
  type: NicType;
  /** Bridge name for 'bridge', libvirt network name for 'network', host interface for 'direct'. */
  source: string;
}

export interface VmFacts {
  name: string;
  uuid: string;
  /** The host it runs on now. */
  host: string;
  vcpus: number;
  memoryKiB: number;
  cpu: GuestCpu;
  disks: readonly DiskFacts[];
  nics: readonly NicFacts[];
  /** Passthrough devices (<hostdev>): a blocker. */
  hostdevs: number;
  /** Labels the target must carry, from the domain's metadata. */
  requiredLabels?: Readonly<Record<string, string>>;
  /** Anti-affinity groups, from metadata or config, merged by the caller. */
  antiAffinity?: readonly string[];
  /** Machine type, loader, NVRAM, vTPM; missing: not known (the firmware filter then checks nothing). */
  firmware?: VmFirmware;
}

/** A label every target must carry: a fixed value, or the same value as the VM's source host (absent matches absent). */
export type LabelRule = { key: string; equals: string } | { key: string; sameAsSource: true };

export type Strategy = 'spread' | 'pack';

export interface PlacementOptions {
  /** spread (default): the most free capacity left after placement; pack: the least. */
  strategy?: Strategy;
  /** Collect every candidate's verdicts and score. Slow: for a plan shown to a person, not for a fleet benchmark. */
  explain?: boolean;
  /** Required labels from config. */
  labelRules?: readonly LabelRule[];
  /** Measured link speed, for the ETA. */
  linkBytesPerSecond?: number;
  /** Evaluate every filter for every host (the reference engine). The fast engine gives the same decisions. */
  engine?: 'fast' | 'reference';
}

export type VerdictStatus = 'ok' | 'skip' | 'warning' | 'error';

export interface Verdict {
  status: VerdictStatus;
  filter: string;
  reason: string;
}

/** A host's capacity and what is committed on it, including what this plan has already claimed. */
export interface HostLoad {
  memoryCapacityKiB: number;
  memoryCommittedKiB: number;
  vcpuCapacity: number;
  vcpusCommitted: number;
  diskFreeBytes: number;
  diskHeadroomBytes: number;
  diskClaimedBytes: number;
  /** Anti-affinity groups present on the host, with one guest or planned VM holding each. */
  groups: ReadonlyMap<string, string>;
}

export interface FilterContext {
  /** The VM's current host, when the inventory knows it. */
  source: HostFacts | undefined;
  load: HostLoad;
  labelRules: readonly LabelRule[];
}

export type Filter = (vm: VmFacts, host: HostFacts, ctx: FilterContext) => Verdict;

/** Free fraction (0..1) of each resource left on the host after placing the VM. */
export interface Score {
  memory: number;
  vcpu: number;
  disk: number;
}

export type BlockerKind = 'passthrough' | 'disk' | 'nic' | 'facts' | 'no-target';

export interface Blocker {
  kind: BlockerKind;
  reason: string;
  /** A stable code for scripts, where there is one (disks: the disk policy's code). */
  code?: string;
}

export interface CandidateExplain {
  host: string;
  verdicts: Verdict[];
  eligible: boolean;
  score?: Score;
  chosen: boolean;
}

interface DecisionBase {
  vm: string;
  uuid: string;
  source: string;
  memoryKiB: number;
  vcpus: number;
  /** Allocated bytes of the local disks: what the mirror copies. */
  bytesToCopy: number;
  explain?: CandidateExplain[];
  /** With explain: what the move does with each disk, and why. */
  disks?: DiskExplain[];
}

/** A target for one VM, with placement's reason and the chosen host's warnings (e.g. a host-model CPU that changes). */
export interface TargetChoice {
  target: string;
  reason: string;
  warnings: string[];
}

export interface PlacedDecision extends DecisionBase, TargetChoice {
  status: 'placed';
  score: Score;
}

export interface BlockedDecision extends DecisionBase {
  status: 'blocked';
  blockers: Blocker[];
}

export type Decision = PlacedDecision | BlockedDecision;

export interface PlanTotals {
  vms: number;
  placed: number;
  blocked: number;
  /** Allocated bytes of the placed VMs' local disks. */
  bytesToCopy: number;
  /** bytesToCopy over the link speed, when one was given. */
  etaSeconds?: number;
}

export interface Plan {
  strategy: Strategy;
  decisions: Decision[];
  totals: PlanTotals;
}

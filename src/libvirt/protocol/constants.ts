/** Enum and flag values from libvirt's public headers (libvirt-domain.h, libvirt-network.h, libvirt-host.h). */

export const DomainState = {
  nostate: 0,
  running: 1,
  blocked: 2,
  paused: 3,
  shutdown: 4,
  shutoff: 5,
  crashed: 6,
  pmsuspended: 7,
} as const;
export type DomainStateName = keyof typeof DomainState;

export const ListAllDomainsFlags = {
  active: 1,
  inactive: 2,
  persistent: 4,
  transient: 8,
  running: 16,
  paused: 32,
  shutoff: 64,
  other: 128,
} as const;

/** VIR_CONNECT_*: `none` opens read-write. */
export const ConnectOpenFlags = { none: 0, readonly: 1, noAliases: 2 } as const;

/** VIR_DOMAIN_XML_*: `none` gives the live definition of a running domain (the persistent one of a stopped domain). */
export const DomainXmlFlags = { none: 0, secure: 1, inactive: 2, updateCpu: 4, migratable: 8 } as const;

/** VIR_DOMAIN_METADATA_*: the <description>, the <title>, or one namespaced element in <metadata>. */
export const DomainMetadataType = { description: 0, title: 1, element: 2 } as const;

/** VIR_DOMAIN_AFFECT_* (also used by update device and set lifecycle action). */
export const DomainAffect = { current: 0, live: 1, config: 2 } as const;

/** VIR_DOMAIN_SHUTDOWN_* and VIR_DOMAIN_REBOOT_* share these values. */
export const ShutdownMode = {
  default: 0,
  acpiPowerButton: 1,
  guestAgent: 2,
  initctl: 4,
  signal: 8,
  paravirt: 16,
} as const;

/** VIR_DOMAIN_UNDEFINE_*: `none` refuses to undefine a domain that has NVRAM, a managed save or snapshots. */
export const UndefineFlags = {
  none: 0,
  managedSave: 1,
  snapshotsMetadata: 2,
  nvram: 4,
  keepNvram: 8,
  checkpointsMetadata: 16,
  /** Since libvirt 8.9: without keepTpm, undefine deletes the domain's swtpm state directory. */
  tpm: 32,
  keepTpm: 64,
} as const;

export const DestroyFlags = { default: 0, graceful: 1 } as const;

export const BlockCopyFlags = { shallow: 1, reuseExt: 2, transientJob: 4, synchronousWrites: 8 } as const;
/** VIR_DOMAIN_BLOCK_JOB_ABORT_*: `none` ends the job and waits, leaving the domain on its own disk (no pivot). */
export const BlockJobAbortFlags = { none: 0, async: 1, pivot: 2 } as const;
/** virDomainBlockJobSetSpeed: bandwidthBytes reads the speed in bytes per second (else MiB/s). */
export const BlockJobSetSpeedFlags = { none: 0, bandwidthBytes: 1 } as const;
export const BlockJobType = { unknown: 0, pull: 1, copy: 2, commit: 3, activeCommit: 4, backup: 5 } as const;
export const BlockJobStatus = { completed: 0, failed: 1, canceled: 2, ready: 3 } as const;

export const LifecycleType = { poweroff: 0, reboot: 1, crash: 2 } as const;
export const LifecycleAction = {
  destroy: 0,
  restart: 1,
  restartRename: 2,
  preserve: 3,
  coredumpDestroy: 4,
  coredumpRestart: 5,
} as const;

/** VIR_DOMAIN_EVENT_ID_* */
export const DomainEventId = { lifecycle: 0, reboot: 1, blockJob: 8, blockJob2: 16 } as const;

/** VIR_DOMAIN_EVENT_* (lifecycle event types). */
export const LifecycleEvent = {
  defined: 0,
  undefined: 1,
  started: 2,
  suspended: 3,
  resumed: 4,
  stopped: 5,
  shutdown: 6,
  pmsuspended: 7,
  crashed: 8,
} as const;

export const NetworkUpdateCommand = { none: 0, modify: 1, delete: 2, addLast: 3, addFirst: 4 } as const;
export const NetworkUpdateSection = {
  none: 0,
  bridge: 1,
  domain: 2,
  ip: 3,
  ipDhcpHost: 4,
  ipDhcpRange: 5,
  forward: 6,
  forwardInterface: 7,
  forwardPf: 8,
  portgroup: 9,
  dnsHost: 10,
  dnsTxt: 11,
  dnsSrv: 12,
} as const;
export const NetworkUpdateFlags = { current: 0, live: 1, config: 2 } as const;
/** VIR_NETWORK_XML_*: `none` gives the running network's definition, `inactive` the persistent one. */
export const NetworkXmlFlags = { none: 0, inactive: 1 } as const;

/** virCPUCompareResult */
export const CpuCompareResult = { error: -1, incompatible: 0, identical: 1, superset: 2 } as const;
export const CpuCompareFlags = { failIncompatible: 1, validateXml: 2 } as const;

export const QemuMonitorCommandFlags = { default: 0, hmp: 1 } as const;

/** VIR_CONNECT_LIST_NETWORKS_* */
export const ListAllNetworksFlags = { inactive: 1, active: 2, persistent: 4, transient: 8 } as const;
export const ListAllStoragePoolsFlags = { inactive: 1, active: 2 } as const;

/** VIR_DOMAIN_STATS_* groups for connect-get-all-domain-stats. */
export const DomainStatsTypes = {
  state: 1,
  cpuTotal: 2,
  balloon: 4,
  vcpu: 8,
  interface: 16,
  block: 32,
} as const;

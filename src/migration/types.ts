import type { CopyInto, DiskCode, DiskCopy } from '../disks/policy.js';
import type { RetainedSet } from '../disks/retention.js';
import type { LibvirtClient } from '../libvirt/client.js';
import type { NoticeKind } from '../notify/index.js';
import type { TargetChoice } from '../placement/types.js';
import type { DiskJob, JobDetails, MigrationRecord } from '../store/types.js';
import type { ClaimedExport } from '../sync/nbd-export.js';
import type { BinaryShell } from '../sync/remote.js';
import type { MirrorMode, NbdExport } from '../sync/types.js';

/**
 * A disk the move copies, as journaled: the disk policy's decision (src/disks) for it. The optional fields are absent in
 * records written before the policy: those are mirrored into a qcow2 file.
 */
export interface MigrationDisk extends DiskJob {
  /** `mirror`: block copy kept in sync; `once`: read-only content copied once (libvirt refuses to mirror it). */
  method?: DiskCopy['method'];
  into?: CopyInto;
  /** The source image's format (`qemu-img -f` for a once-copy). */
  sourceFormat?: string;
  keepOnSource?: boolean;
  code?: DiskCode;
  /** A once-copy that finished. */
  copied?: boolean;
}

/** The disks kept in sync by a block job (everything but once-copies). */
export function mirroredDisks(job: { disks: readonly MigrationDisk[] }): MigrationDisk[] {
  return job.disks.filter((disk) => disk.method !== 'once');
}

/** What the engine journals in the migration record's `job` column. */
export interface MigrationJob extends JobDetails {
  disks: MigrationDisk[];
  exports: NbdExport[];
  mode: MirrorMode;
  /** Journaled before prepare-target creates an export's image, cleared once the export is journaled. */
  claimedExport?: ClaimedExport & { volume?: { pool: string; name: string } };
  bandwidthBytesPerSec?: number;
  /** The source's `dumpxml --inactive`, taken when arming: the target's definition is made from it. */
  inactiveXml?: string;
  /** Last mirror reading, for `rehome status`; the rate over the last seconds and the ETA at it, when known. */
  progress?: {
    cur: number;
    end: number;
    at: string;
    bytesPerSec?: number | null;
    etaSeconds?: number | null;
  };
  /** True once the mirror ended without pivot while the guest was paused and converged. */
  converged?: boolean;
  /** True once start-target started the VM on the target: from then on a failure never rolls back. */
  targetStarted?: boolean;
  /** cdrom/floppy drives whose local media the target's definition leaves out (storage.removableMedia: eject). */
  ejected?: string[];
  /** MACs whose link was set down on the source during the cutover. */
  linksDown?: string[];
  /** DHCP host entries moved from the source's libvirt networks to the target's. */
  dhcpMoved?: { network: string; hostXml: string }[];
  /** Reboot event → paused, per cutover attempt. */
  pauseLatenciesMs?: number[];
  /** ISO 8601; when the current deadline was set (arming, or the last reschedule): reminders count from it. */
  scheduledAt?: string;
  /** What triggered the running/last cutover. */
  trigger?: string;
  /** Source disks kept after the move, until `until`; reconcile removes what retention allows (src/disks/retention). */
  retained?: RetainedSet;
  /** Set when a cutover began: a rollback then undoes the cutover steps too. */
  inCutover?: boolean;
  /**
   * The UEFI NVRAM file and vTPM state directory carried to the target at the cutover (same paths there): `roots` is
   * journaled before anything is written, `carried` lists each file checked on the target.
   */
  firmware?: {
    roots: string[];
    nvram?: string;
    carried?: { path: string; size: number; sha256: string }[];
  };
  /** Timestamps of the cutover's milestones (ms since the reboot event), for status and benchmarks. */
  timeline?: Record<string, number>;
}

export interface ProgressEvent {
  vm: string;
  step: string;
  /** `start` and `done` frame a step; `info` is a note inside it. */
  status: 'start' | 'done' | 'skip' | 'info' | 'error';
  message?: string;
}

export type ProgressSink = (event: ProgressEvent) => void;

/** How the engine reaches hosts: the real HostConnections or a fake. */
export interface HostsPort {
  ssh(host: string): Promise<BinaryShell>;
  libvirt(host: string): Promise<LibvirtClient>;
  /** The address other hosts use to reach this one (its resolved ssh hostname). */
  addressOf(host: string): Promise<string>;
}

/** A target picked for a VM that runs on `source` (placement over a fresh inventory), with placement's reason. */
export type ChooseTarget = (vm: { name: string; uuid: string; source: string }) => Promise<TargetChoice>;

export interface NoticeExtra {
  /** For `failed` and `rolled-back`. */
  error?: string;
  /** A `scheduled` notice sent again because the deadline moved. */
  rescheduled?: boolean;
  /** For `reminder`: the key from dueNotices (one notice per reminder and deadline). */
  reminderKey?: string;
}

/** What the engine calls; the MigrationContext carries one when notices are configured. */
export interface NoticesPort {
  /** Sends in the background and returns at once: a mailbox never delays or fails a migration. */
  send(record: MigrationRecord, kind: NoticeKind, extra?: NoticeExtra): void;
}

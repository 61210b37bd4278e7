import type { LibvirtClient } from '../libvirt/client.js';
import type { NoticeKind } from '../notify/index.js';
import type { TargetChoice } from '../placement/types.js';
import type { DiskJob, JobDetails, MigrationRecord } from '../store/types.js';
import type { ClaimedExport } from '../sync/nbd-export.js';
import type { RemoteShell } from '../sync/remote.js';
import type { MirrorMode, NbdExport } from '../sync/types.js';

/** What the engine journals in the migration record's `job` column. */
export interface MigrationJob extends JobDetails {
  disks: DiskJob[];
  exports: NbdExport[];
  mode: MirrorMode;
  /** Journaled before prepare-target creates an export's image, cleared once the export is journaled. */
  claimedExport?: ClaimedExport;
  bandwidthBytesPerSec?: number;
  /** The source's `dumpxml --inactive`, taken when arming: the target's definition is made from it. */
  inactiveXml?: string;
  /** Last mirror reading, for `rehome status`. */
  progress?: { cur: number; end: number; at: string };
  /** True once the mirror ended without pivot while the guest was paused and converged. */
  converged?: boolean;
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
  /** Source disks kept after the move, until `until`; reconcile removes them. */
  retained?: { host: string; paths: string[]; until: string; removedAt?: string };
  /** Set when a cutover began: a rollback then undoes the cutover steps too. */
  inCutover?: boolean;
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
  ssh(host: string): Promise<RemoteShell>;
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

import type { Phase } from './phases.js';

/** One disk the block copy moves. */
export interface DiskJob {
  /** Guest device, e.g. `vda`. */
  target: string;
  sourcePath: string;
  targetPath: string;
  format: string;
  /** 0 until the prepare step reads it from the source image. */
  virtualSizeBytes: number;
}

/**
 * Block-job details; free-form beyond the disks so the engine can journal what it needs (the NBD exports among it:
 * see MigrationJob in src/migration/types.ts).
 */
export interface JobDetails {
  disks?: DiskJob[];
  [key: string]: unknown;
}

export interface MigrationRecord {
  id: string;
  vmName: string;
  vmUuid: string;
  sourceHost: string;
  targetHost: string;
  phase: Phase;
  /** ISO-8601 UTC. */
  deadline: string | null;
  job: JobDetails;
  /** Who to tell about the move (the VM's owner). */
  owner: string | null;
  createdAt: string;
  updatedAt: string;
  lastError: string | null;
}

export interface NewMigration {
  vmName: string;
  vmUuid: string;
  sourceHost: string;
  targetHost: string;
  deadline?: string | null;
  owner?: string | null;
  job?: JobDetails;
  /** Defaults to a random UUID. */
  id?: string;
}

/** Fields that may change along with (or without) a phase change. `undefined` leaves a field as it is. */
export interface MigrationPatch {
  targetHost?: string;
  deadline?: string | null;
  job?: JobDetails;
  owner?: string | null;
  lastError?: string | null;
}

export interface MigrationFilter {
  phase?: Phase | readonly Phase[];
  /** Matches the source or the target host. */
  host?: string;
  /** Matches the VM's name or UUID. */
  vm?: string;
  activeOnly?: boolean;
}

export type AuditOutcome = 'ok' | 'error' | 'info';

export interface AuditEntry {
  id: number;
  /** ISO-8601 UTC. */
  at: string;
  migrationId: string | null;
  /** The VM's key: its libvirt UUID, the same key the locks use. */
  vm: string;
  step: string;
  outcome: AuditOutcome;
  detail: Record<string, unknown>;
}

export interface NewAuditEntry {
  migrationId?: string | null;
  vm: string;
  step: string;
  outcome: AuditOutcome;
  detail?: Record<string, unknown>;
}

export interface AuditFilter {
  migrationId?: string;
  vm?: string;
  /** The newest entries up to this many, still returned oldest first. */
  limit?: number;
}

export interface LockOwner {
  pid: number;
  host: string;
  purpose: string;
}

export interface LockHolder extends LockOwner {
  vmKey: string;
  /** ISO-8601 UTC. */
  since: string;
  expiresAt: string;
}

/**
 * Proof of holding a VM's lock, for fencing: a phase change or details update made with it succeeds only while the
 * VM's lock row still carries this token, checked in the same statement as the write. A holder that stalled past its
 * lease and was taken over is refused with LockLostError.
 */
export interface LockFence {
  readonly token: string;
}

export interface Lock {
  readonly vmKey: string;
  readonly fence: LockFence;
  readonly owner: LockOwner;
  /** The holder this acquisition displaced as stale, if any. */
  readonly tookOverFrom: LockHolder | null;
  /** Extends the lease by ttlMs (default: the acquire ttl). Throws LockLostError if another process took it over. */
  refresh(ttlMs?: number): Promise<void>;
  /** Idempotent; never removes a lock that another process took over meanwhile. */
  release(): Promise<void>;
}

export type DeliveryStatus = 'pending' | 'sent' | 'failed';

export interface DeliveryRecord {
  id: string;
  migrationId: string;
  /** What is said, e.g. `armed`, `reminder`, `done`. */
  kind: string;
  /** How, e.g. `smtp`, `webhook`, `command`. */
  channel: string;
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  /** The notice record to (re)send, as given at enqueue; null for deliveries enqueued without one. */
  notice: Record<string, unknown> | null;
}

export interface NewDelivery {
  migrationId: string;
  kind: string;
  channel: string;
  recipient: string;
  /** Enqueueing twice with the same key yields the first record (e.g. `<migration>:reminder:<day>`). */
  dedupeKey?: string;
  /** ISO-8601 UTC; defaults to now. */
  notBefore?: string;
  /** The notice record, kept so that a retry sends exactly the same notice. */
  notice?: Record<string, unknown>;
}

/** A host that takes no new VMs. `draining`: also being emptied. A host without a record is active. */
export type HostStateName = 'cordoned' | 'draining';

export interface HostStateRecord {
  host: string;
  state: HostStateName;
  reason: string | null;
  /** When the host left the active state (kept when it goes from cordoned to draining). ISO-8601 UTC. */
  since: string;
  updatedAt: string;
}

export interface HostStateChange {
  host: string;
  before: HostStateName | 'active';
  after: HostStateName | 'active';
  /** False when the host already was in the asked state: nothing was written. */
  changed: boolean;
}

export type DrainStatusName = 'running' | 'armed' | 'partial' | 'failed';

/** Per VM of a drain: pending → preparing → armed | failed; blocked ones are never started. */
export type DrainVmOutcome = 'pending' | 'preparing' | 'armed' | 'failed' | 'blocked';

export interface DrainVmRecord {
  vmUuid: string;
  vmName: string;
  /** Order in the plan, for a stable display. */
  position: number;
  targetHost: string | null;
  outcome: DrainVmOutcome;
  migrationId: string | null;
  /** Why it is blocked or failed. */
  detail: string | null;
  updatedAt: string;
}

export interface DrainRecord {
  id: string;
  host: string;
  deadline: string | null;
  concurrency: number;
  bandwidthBytesPerSec: number | null;
  status: DrainStatusName;
  startedAt: string;
  finishedAt: string | null;
  lastError: string | null;
  /** In plan order. */
  vms: DrainVmRecord[];
}

export interface NewDrain {
  host: string;
  deadline?: string | null;
  concurrency: number;
  bandwidthBytesPerSec?: number | null;
  vms: {
    vmUuid: string;
    vmName: string;
    targetHost: string | null;
    outcome: 'pending' | 'blocked';
    detail?: string | null;
  }[];
  id?: string;
}

export interface DrainPatch {
  status?: DrainStatusName;
  finishedAt?: string | null;
  lastError?: string | null;
}

export interface DrainVmPatch {
  outcome?: DrainVmOutcome;
  migrationId?: string | null;
  detail?: string | null;
}

/**
 * rehome's state, kept in SQLite (src/store/sqlite, the embedded default) or PostgreSQL (src/store/postgres, shared by
 * several machines). Both pass the same contract tests (test/integration/store-contract.test.ts).
 */
export interface Store {
  /** Throws ActiveMigrationError if the VM already has an active migration. Audited as `created`. */
  createMigration(input: NewMigration): Promise<MigrationRecord>;
  getMigration(id: string): Promise<MigrationRecord | undefined>;
  /** The VM's one active (non-terminal) migration, by UUID. */
  getActiveMigration(vmUuid: string): Promise<MigrationRecord | undefined>;
  /** Oldest first. */
  listMigrations(filter?: MigrationFilter): Promise<MigrationRecord[]>;
  /**
   * Moves `from` → `to` only if the record is still in `from` (PhaseConflictError otherwise), and only along
   * PHASE_TRANSITIONS. Applies the patch and audits the change in the same transaction. With a fence, only while the
   * VM's lock still carries its token (LockLostError otherwise), checked in the same statement.
   */
  updatePhase(
    id: string,
    from: Phase,
    to: Phase,
    patch?: MigrationPatch,
    fence?: LockFence,
  ): Promise<MigrationRecord>;
  /** Applies the patch only if the record is still in `expectedPhase` (PhaseConflictError otherwise); fenced alike. */
  updateDetails(
    id: string,
    expectedPhase: Phase,
    patch: MigrationPatch,
    fence?: LockFence,
  ): Promise<MigrationRecord>;

  /** Append-only: there is no way to change or remove an entry. */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Oldest first. */
  listAudit(filter?: AuditFilter): Promise<AuditEntry[]>;

  /**
   * Atomic across processes. A live holder makes it throw LockedError. A stale holder (ttl expired, or its pid dead
   * on this very host) is taken over, and the takeover audited.
   */
  acquireLock(vmKey: string, owner: LockOwner, ttlMs: number): Promise<Lock>;
  /** The current holder, stale or not, for status displays. */
  getLockHolder(vmKey: string): Promise<LockHolder | undefined>;
  /** Every holder whose key starts with the prefix (e.g. `host:` for watch replicas' host leases), by key. */
  listLockHolders(prefix: string): Promise<LockHolder[]>;

  enqueueDelivery(input: NewDelivery): Promise<DeliveryRecord>;
  /** Pending deliveries whose next attempt is due at `now`, oldest due first. */
  listDueDeliveries(now?: Date, limit?: number): Promise<DeliveryRecord[]>;
  listDeliveries(migrationId: string): Promise<DeliveryRecord[]>;
  markDeliverySent(id: string): Promise<DeliveryRecord>;
  /** Counts an attempt. With `retryAt` it stays pending until then; without, it is failed for good. */
  markDeliveryFailed(id: string, error: string, retryAt?: Date | null): Promise<DeliveryRecord>;

  /**
   * Records the use of a single-use link token. True the first time for a nonce, false ever after (atomic across
   * processes: two concurrent uses cannot both get true).
   */
  markTokenUsed(nonce: string, usedAt?: Date): Promise<boolean>;

  /** Hosts that are cordoned or draining; hosts not listed are active. */
  listHostStates(): Promise<HostStateRecord[]>;
  getHostState(host: string): Promise<HostStateRecord | undefined>;
  /**
   * Puts the host in the state (`active` removes its record). Writes nothing when it is already there. Atomic across
   * processes.
   */
  setHostState(
    host: string,
    state: HostStateName | 'active',
    reason?: string | null,
  ): Promise<HostStateChange>;

  /** A drain with its VMs in the given order. */
  createDrain(input: NewDrain): Promise<DrainRecord>;
  getDrain(id: string): Promise<DrainRecord | undefined>;
  /** Oldest first. */
  listDrains(filter?: { host?: string }): Promise<DrainRecord[]>;
  updateDrain(id: string, patch: DrainPatch): Promise<DrainRecord>;
  updateDrainVm(drainId: string, vmUuid: string, patch: DrainVmPatch): Promise<DrainVmRecord>;

  close(): Promise<void>;
}

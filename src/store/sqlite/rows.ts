import { isPhase } from '../phases.js';
import { toIsoUtc } from '../time.js';
import type {
  AuditEntry,
  AuditOutcome,
  DeliveryRecord,
  DeliveryStatus,
  DiskJob,
  HostStateName,
  HostStateRecord,
  JobDetails,
  LockHolder,
  MigrationPatch,
  MigrationRecord,
  NewDelivery,
} from '../types.js';

export interface MigrationRow {
  id: string;
  vm_name: string;
  vm_uuid: string;
  source_host: string;
  target_host: string;
  phase: string;
  deadline: string | null;
  job: string;
  owner: string | null;
  created_at: string;
  updated_at: string;
  last_error: string | null;
}

export function migrationFromRow(row: MigrationRow): MigrationRecord {
  if (!isPhase(row.phase))
    throw new Error(`Migration ${row.id} has an unknown phase ${JSON.stringify(row.phase)}`);
  return {
    id: row.id,
    vmName: row.vm_name,
    vmUuid: row.vm_uuid,
    sourceHost: row.source_host,
    targetHost: row.target_host,
    phase: row.phase,
    deadline: row.deadline,
    job: jobFromColumn(row.job),
    owner: row.owner,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastError: row.last_error,
  };
}

/** Rows written before the disk size was named virtualSizeBytes call it virtualSize. */
type StoredDiskJob = DiskJob & { virtualSize?: number };

function jobFromColumn(text: string): JobDetails {
  const job = JSON.parse(text) as JobDetails;
  if (!Array.isArray(job.disks)) return job;
  const disks = (job.disks as StoredDiskJob[]).map(({ virtualSize, ...disk }) =>
    virtualSize === undefined ? disk : { ...disk, virtualSizeBytes: disk.virtualSizeBytes ?? virtualSize },
  );
  return { ...job, disks };
}

/** The columns a patch sets, by column name. Keys left undefined in the patch are left out. */
export function patchToColumns(patch: MigrationPatch): Record<string, string | number | null> {
  const columns: Record<string, string | number | null> = {};
  if (patch.targetHost !== undefined) columns.target_host = patch.targetHost;
  if (patch.deadline !== undefined) columns.deadline = patch.deadline;
  if (patch.owner !== undefined) columns.owner = patch.owner;
  if (patch.lastError !== undefined) columns.last_error = patch.lastError;
  if (patch.job !== undefined) columns.job = JSON.stringify(patch.job);
  return columns;
}

export interface AuditRow {
  id: number;
  at: string;
  migration_id: string | null;
  vm: string;
  step: string;
  outcome: string;
  detail: string;
}

export function auditFromRow(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    migrationId: row.migration_id,
    vm: row.vm,
    step: row.step,
    outcome: row.outcome as AuditOutcome,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}

export interface LockRow {
  vm_key: string;
  token: string;
  pid: number;
  host: string;
  purpose: string;
  acquired_at: string;
  expires_at: string;
}

export function holderFromRow(row: LockRow): LockHolder {
  return {
    vmKey: row.vm_key,
    pid: row.pid,
    host: row.host,
    purpose: row.purpose,
    since: row.acquired_at,
    expiresAt: row.expires_at,
  };
}

export interface DeliveryRow {
  id: string;
  migration_id: string;
  kind: string;
  channel: string;
  recipient: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  notice: string | null;
}

export function deliveryFromRow(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    migrationId: row.migration_id,
    kind: row.kind,
    channel: row.channel,
    recipient: row.recipient,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    notice: row.notice === null ? null : (JSON.parse(row.notice) as Record<string, unknown>),
  };
}

export interface HostStateRow {
  host: string;
  state: HostStateName;
  reason: string | null;
  since: string;
  updated_at: string;
}

export function hostStateFromRow(row: HostStateRow): HostStateRecord {
  return {
    host: row.host,
    state: row.state,
    reason: row.reason,
    since: row.since,
    updatedAt: row.updated_at,
  };
}

/**
 * The values of a new delivery row, in the column order both backends insert:
 * (id, dedupe_key, migration_id, kind, channel, recipient, next_attempt_at, created_at, updated_at, notice).
 */
export function newDeliveryValues(
  input: NewDelivery,
  id: string,
  dedupeKey: string,
  at: string,
): (string | null)[] {
  return [
    id,
    dedupeKey,
    input.migrationId,
    input.kind,
    input.channel,
    input.recipient,
    input.notBefore ? toIsoUtc(input.notBefore) : at,
    at,
    at,
    input.notice === undefined ? null : JSON.stringify(input.notice),
  ];
}

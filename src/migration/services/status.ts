import type { AuditEntry, LockHolder, MigrationRecord } from '../../store/types.js';
import type { Runtime } from '../runtime.js';
import type { MigrationJob } from '../types.js';
import { type HostLeaseStatus, listHostLeases } from './host-leases.js';

export interface MigrationStatus {
  id: string;
  vm: string;
  uuid: string;
  phase: string;
  source: string;
  target: string;
  deadline: string | null;
  mode: string | null;
  progress: {
    cur: number;
    end: number;
    percent: number;
    at: string;
    bytesPerSec?: number | null;
    etaSeconds?: number | null;
  } | null;
  pauseLatenciesMs: number[];
  timeline: Record<string, number>;
  retained: MigrationJob['retained'] | null;
  lastError: string | null;
  lock: LockHolder | null;
  createdAt: string;
  updatedAt: string;
  history?: AuditEntry[];
}

export interface StatusResult {
  migrations: MigrationStatus[];
  /** Which watch replica (pid on which machine) holds each host's lease; absent when a VM was asked for. */
  hostLeases?: HostLeaseStatus[];
}

function toStatus(record: MigrationRecord, lock: LockHolder | undefined): MigrationStatus {
  const job = record.job as Partial<MigrationJob>;
  const progress = job.progress
    ? {
        ...job.progress,
        percent: job.progress.end > 0 ? Math.floor((job.progress.cur / job.progress.end) * 100) : 0,
      }
    : null;
  return {
    id: record.id,
    vm: record.vmName,
    uuid: record.vmUuid,
    phase: record.phase,
    source: record.sourceHost,
    target: record.targetHost,
    deadline: record.deadline,
    mode: job.mode ?? null,
    progress,
    pauseLatenciesMs: job.pauseLatenciesMs ?? [],
    timeline: job.timeline ?? {},
    retained: job.retained ?? null,
    lastError: record.lastError,
    lock: lock ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** With a VM: its migrations (newest last) with their history. Without: every active migration, and the host leases. */
export async function status(rt: Pick<Runtime, 'store'>, vm?: string): Promise<StatusResult> {
  const records = vm
    ? await rt.store.listMigrations({ vm })
    : await rt.store.listMigrations({ activeOnly: true });
  const migrations: MigrationStatus[] = [];
  for (const record of records) {
    const entry = toStatus(record, await rt.store.getLockHolder(record.vmUuid));
    if (vm) entry.history = await rt.store.listAudit({ migrationId: record.id });
    migrations.push(entry);
  }
  return vm ? { migrations } : { migrations, hostLeases: await listHostLeases(rt.store) };
}

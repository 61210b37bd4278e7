import { randomUUID } from 'node:crypto';
import { toIsoUtc } from '../time.js';
import type {
  DrainPatch,
  DrainRecord,
  DrainStatusName,
  DrainVmOutcome,
  DrainVmPatch,
  DrainVmRecord,
  NewDrain,
} from '../types.js';
import { type SqliteContext, writeTransaction } from './context.js';

export interface DrainRow {
  id: string;
  host: string;
  deadline: string | null;
  concurrency: number;
  bandwidth_bytes_per_sec: number | null;
  status: DrainStatusName;
  started_at: string;
  finished_at: string | null;
  last_error: string | null;
}

export interface DrainVmRow {
  drain_id: string;
  vm_uuid: string;
  vm_name: string;
  position: number;
  target_host: string | null;
  outcome: DrainVmOutcome;
  migration_id: string | null;
  detail: string | null;
  updated_at: string;
}

export function vmFromRow(row: DrainVmRow): DrainVmRecord {
  return {
    vmUuid: row.vm_uuid,
    vmName: row.vm_name,
    position: row.position,
    targetHost: row.target_host,
    outcome: row.outcome,
    migrationId: row.migration_id,
    detail: row.detail,
    updatedAt: row.updated_at,
  };
}

function fromRow(ctx: SqliteContext, row: DrainRow): DrainRecord {
  const vms = ctx.db
    .prepare('SELECT * FROM drain_vms WHERE drain_id = ? ORDER BY position')
    .all(row.id) as DrainVmRow[];
  return drainFromRows(row, vms);
}

/** A drain from its row and its VMs' rows in plan order (shared with the PostgreSQL store). */
export function drainFromRows(row: DrainRow, vms: readonly DrainVmRow[]): DrainRecord {
  return {
    id: row.id,
    host: row.host,
    deadline: row.deadline,
    concurrency: row.concurrency,
    bandwidthBytesPerSec: row.bandwidth_bytes_per_sec,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    lastError: row.last_error,
    vms: vms.map(vmFromRow),
  };
}

export function createDrain(ctx: SqliteContext, input: NewDrain): DrainRecord {
  const id = input.id ?? randomUUID();
  writeTransaction(ctx, () => {
    const at = ctx.now().toISOString();
    ctx.db
      .prepare(
        `INSERT INTO drains (id, host, deadline, concurrency, bandwidth_bytes_per_sec, status, started_at)
         VALUES (?, ?, ?, ?, ?, 'running', ?)`,
      )
      .run(
        id,
        input.host,
        input.deadline ? toIsoUtc(input.deadline) : null,
        input.concurrency,
        input.bandwidthBytesPerSec ?? null,
        at,
      );
    const insert = ctx.db.prepare(
      `INSERT INTO drain_vms (drain_id, vm_uuid, vm_name, position, target_host, outcome, detail, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    input.vms.forEach((vm, position) => {
      insert.run(id, vm.vmUuid, vm.vmName, position, vm.targetHost, vm.outcome, vm.detail ?? null, at);
    });
  });
  return mustGet(ctx, id);
}

export function getDrain(ctx: SqliteContext, id: string): DrainRecord | undefined {
  const row = ctx.db.prepare('SELECT * FROM drains WHERE id = ?').get(id) as DrainRow | undefined;
  return row && fromRow(ctx, row);
}

export function listDrains(ctx: SqliteContext, filter: { host?: string } = {}): DrainRecord[] {
  const rows = (
    filter.host === undefined
      ? ctx.db.prepare('SELECT * FROM drains ORDER BY started_at, rowid').all()
      : ctx.db.prepare('SELECT * FROM drains WHERE host = ? ORDER BY started_at, rowid').all(filter.host)
  ) as DrainRow[];
  return rows.map((row) => fromRow(ctx, row));
}

export function updateDrain(ctx: SqliteContext, id: string, patch: DrainPatch): DrainRecord {
  const columns: Record<string, string | null> = {};
  if (patch.status !== undefined) columns.status = patch.status;
  if (patch.finishedAt !== undefined) columns.finished_at = patch.finishedAt && toIsoUtc(patch.finishedAt);
  if (patch.lastError !== undefined) columns.last_error = patch.lastError;
  const names = Object.keys(columns);
  if (names.length > 0) {
    const result = ctx.db
      .prepare(`UPDATE drains SET ${names.map((name) => `${name} = ?`).join(', ')} WHERE id = ?`)
      .run(...Object.values(columns), id);
    if (result.changes === 0) throw new Error(`no drain ${id}`);
  }
  return mustGet(ctx, id);
}

export function updateDrainVm(
  ctx: SqliteContext,
  drainId: string,
  vmUuid: string,
  patch: DrainVmPatch,
): DrainVmRecord {
  const columns: Record<string, string | null> = { updated_at: ctx.now().toISOString() };
  if (patch.outcome !== undefined) columns.outcome = patch.outcome;
  if (patch.migrationId !== undefined) columns.migration_id = patch.migrationId;
  if (patch.detail !== undefined) columns.detail = patch.detail;
  const names = Object.keys(columns);
  const row = ctx.db
    .prepare(
      `UPDATE drain_vms SET ${names.map((name) => `${name} = ?`).join(', ')}
       WHERE drain_id = ? AND vm_uuid = ? RETURNING *`,
    )
    .get(...Object.values(columns), drainId, vmUuid) as DrainVmRow | undefined;
  if (!row) throw new Error(`no VM ${vmUuid} in drain ${drainId}`);
  return vmFromRow(row);
}

function mustGet(ctx: SqliteContext, id: string): DrainRecord {
  const drain = getDrain(ctx, id);
  if (!drain) throw new Error(`drain ${id} vanished`);
  return drain;
}

import { randomUUID } from 'node:crypto';
import {
  ActiveMigrationError,
  IllegalTransitionError,
  LockLostError,
  MigrationNotFoundError,
  PhaseConflictError,
} from '../errors.js';
import { canTransition, type Phase, TERMINAL_PHASES } from '../phases.js';
import { toIsoUtc } from '../time.js';
import type { LockFence, MigrationFilter, MigrationPatch, MigrationRecord, NewMigration } from '../types.js';
import { appendAudit } from './audit-repo.js';
import { type SqliteContext, writeTransaction } from './context.js';
import { getLockHolder, lockToken } from './lock-repo.js';
import { type MigrationRow, migrationFromRow, patchToColumns } from './rows.js';

const terminalList = TERMINAL_PHASES.map((p) => `'${p}'`).join(', ');

export function createMigration(ctx: SqliteContext, input: NewMigration): MigrationRecord {
  return writeTransaction(ctx, () => {
    const existing = getActiveMigration(ctx, input.vmUuid);
    if (existing) throw new ActiveMigrationError(input.vmName, existing.id, existing.phase);
    const id = input.id ?? randomUUID();
    const at = ctx.now().toISOString();
    ctx.db
      .prepare(
        `INSERT INTO migrations
           (id, vm_name, vm_uuid, source_host, target_host, phase, deadline, job, owner, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.vmName,
        input.vmUuid,
        input.sourceHost,
        input.targetHost,
        input.deadline ? toIsoUtc(input.deadline) : null,
        JSON.stringify(input.job ?? {}),
        input.owner ?? null,
        at,
        at,
      );
    appendAudit(ctx, {
      migrationId: id,
      vm: input.vmUuid,
      step: 'created',
      outcome: 'ok',
      detail: { vmName: input.vmName, sourceHost: input.sourceHost, targetHost: input.targetHost },
    });
    return mustGet(ctx, id);
  });
}

export function getMigration(ctx: SqliteContext, id: string): MigrationRecord | undefined {
  const row = ctx.db.prepare('SELECT * FROM migrations WHERE id = ?').get(id) as MigrationRow | undefined;
  return row && migrationFromRow(row);
}

export function getActiveMigration(ctx: SqliteContext, vmUuid: string): MigrationRecord | undefined {
  const row = ctx.db
    .prepare(`SELECT * FROM migrations WHERE vm_uuid = ? AND phase NOT IN (${terminalList})`)
    .get(vmUuid) as MigrationRow | undefined;
  return row && migrationFromRow(row);
}

export function listMigrations(ctx: SqliteContext, filter: MigrationFilter = {}): MigrationRecord[] {
  const where: string[] = [];
  const params: string[] = [];
  if (filter.phase !== undefined) {
    const phases: readonly Phase[] = typeof filter.phase === 'string' ? [filter.phase] : filter.phase;
    if (phases.length === 0) return [];
    where.push(`phase IN (${phases.map(() => '?').join(', ')})`);
    params.push(...phases);
  }
  if (filter.host !== undefined) {
    where.push('(source_host = ? OR target_host = ?)');
    params.push(filter.host, filter.host);
  }
  if (filter.vm !== undefined) {
    where.push('(vm_name = ? OR vm_uuid = ?)');
    params.push(filter.vm, filter.vm);
  }
  if (filter.activeOnly) where.push(`phase NOT IN (${terminalList})`);
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const rows = ctx.db
    .prepare(`SELECT * FROM migrations ${whereSql} ORDER BY created_at, id`)
    .all(...params) as MigrationRow[];
  return rows.map(migrationFromRow);
}

export function updatePhase(
  ctx: SqliteContext,
  id: string,
  from: Phase,
  to: Phase,
  patch: MigrationPatch = {},
  fence?: LockFence,
): MigrationRecord {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return writeTransaction(ctx, () => {
    const updated = conditionalUpdate(ctx, id, from, { ...patchColumns(patch), phase: to }, fence);
    appendAudit(ctx, {
      migrationId: id,
      vm: updated.vmUuid,
      step: 'phase',
      outcome: to === 'failed' ? 'error' : 'ok',
      detail: { from, to, ...(patch.lastError ? { error: patch.lastError } : {}) },
    });
    return updated;
  });
}

export function updateDetails(
  ctx: SqliteContext,
  id: string,
  expectedPhase: Phase,
  patch: MigrationPatch,
  fence?: LockFence,
): MigrationRecord {
  return writeTransaction(ctx, () => conditionalUpdate(ctx, id, expectedPhase, patchColumns(patch), fence));
}

function patchColumns(patch: MigrationPatch): Record<string, string | number | null> {
  const columns = patchToColumns(patch);
  if (typeof columns.deadline === 'string') columns.deadline = toIsoUtc(columns.deadline);
  return columns;
}

/**
 * One UPDATE guarded by the expected phase and, with a fence, by the VM's lock token: the checks and the write are the
 * same statement.
 */
function conditionalUpdate(
  ctx: SqliteContext,
  id: string,
  expectedPhase: Phase,
  columns: Record<string, string | number | null>,
  fence?: LockFence,
): MigrationRecord {
  const all = { ...columns, updated_at: ctx.now().toISOString() };
  const names = Object.keys(all);
  const fenceSql = fence
    ? ' AND EXISTS (SELECT 1 FROM locks WHERE vm_key = migrations.vm_uuid AND token = ?)'
    : '';
  const result = ctx.db
    .prepare(
      `UPDATE migrations SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE id = ? AND phase = ?${fenceSql}`,
    )
    .run(...Object.values(all), id, expectedPhase, ...(fence ? [fence.token] : []));
  const current = getMigration(ctx, id);
  if (!current) throw new MigrationNotFoundError(id);
  if (result.changes === 0) {
    if (fence && lockToken(ctx, current.vmUuid) !== fence.token)
      throw new LockLostError(current.vmUuid, getLockHolder(ctx, current.vmUuid));
    throw new PhaseConflictError(id, expectedPhase, current.phase);
  }
  return current;
}

function mustGet(ctx: SqliteContext, id: string): MigrationRecord {
  const record = getMigration(ctx, id);
  if (!record) throw new MigrationNotFoundError(id);
  return record;
}

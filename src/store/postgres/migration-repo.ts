import { randomUUID } from 'node:crypto';
import {
  ActiveMigrationError,
  IllegalTransitionError,
  LockLostError,
  MigrationNotFoundError,
  PhaseConflictError,
} from '../errors.js';
import { canTransition, type Phase, TERMINAL_PHASES } from '../phases.js';
import { type MigrationRow, migrationFromRow, patchToColumns } from '../sqlite/rows.js';
import { toIsoUtc } from '../time.js';
import type { LockFence, MigrationFilter, MigrationPatch, MigrationRecord, NewMigration } from '../types.js';
import { appendAudit } from './audit-repo.js';
import { type PostgresContext, placeholders, type Queryable, row, rows, transaction } from './context.js';
import { getLockHolder, lockToken } from './lock-repo.js';

const terminalList = TERMINAL_PHASES.map((p) => `'${p}'`).join(', ');

/** The unique partial index (one active migration per VM) is what refuses a concurrent second one. */
export async function createMigration(ctx: PostgresContext, input: NewMigration): Promise<MigrationRecord> {
  const id = input.id ?? randomUUID();
  try {
    return await transaction(ctx, async (db) => {
      const at = ctx.now().toISOString();
      const created = await row<MigrationRow>(
        db,
        `INSERT INTO migrations
           (id, vm_name, vm_uuid, source_host, target_host, phase, deadline, job, owner, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'planned', $6, $7, $8, $9, $10) RETURNING *`,
        [
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
        ],
      );
      await appendAudit(ctx, db, {
        migrationId: id,
        vm: input.vmUuid,
        step: 'created',
        outcome: 'ok',
        detail: { vmName: input.vmName, sourceHost: input.sourceHost, targetHost: input.targetHost },
      });
      return migrationFromRow(created as MigrationRow);
    });
  } catch (err) {
    if ((err as { constraint?: string }).constraint !== 'migrations_one_active_per_vm') throw err;
    const existing = await getActiveMigration(ctx, input.vmUuid);
    if (!existing) throw err;
    throw new ActiveMigrationError(input.vmName, existing.id, existing.phase);
  }
}

export async function getMigration(
  ctx: PostgresContext,
  id: string,
  db: Queryable = ctx.pool,
): Promise<MigrationRecord | undefined> {
  const found = await row<MigrationRow>(db, 'SELECT * FROM migrations WHERE id = $1', [id]);
  return found && migrationFromRow(found);
}

export async function getActiveMigration(
  ctx: PostgresContext,
  vmUuid: string,
): Promise<MigrationRecord | undefined> {
  const found = await row<MigrationRow>(
    ctx.pool,
    `SELECT * FROM migrations WHERE vm_uuid = $1 AND phase NOT IN (${terminalList})`,
    [vmUuid],
  );
  return found && migrationFromRow(found);
}

export async function listMigrations(
  ctx: PostgresContext,
  filter: MigrationFilter = {},
): Promise<MigrationRecord[]> {
  const where: string[] = [];
  const params: string[] = [];
  if (filter.phase !== undefined) {
    const phases: readonly Phase[] = typeof filter.phase === 'string' ? [filter.phase] : filter.phase;
    if (phases.length === 0) return [];
    where.push(`phase IN (${placeholders(phases.length, params.length + 1)})`);
    params.push(...phases);
  }
  if (filter.host !== undefined) {
    params.push(filter.host);
    where.push(`(source_host = $${params.length} OR target_host = $${params.length})`);
  }
  if (filter.vm !== undefined) {
    params.push(filter.vm);
    where.push(`(vm_name = $${params.length} OR vm_uuid = $${params.length})`);
  }
  if (filter.activeOnly) where.push(`phase NOT IN (${terminalList})`);
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const found = await rows<MigrationRow>(
    ctx.pool,
    `SELECT * FROM migrations ${whereSql} ORDER BY created_at, id`,
    params,
  );
  return found.map(migrationFromRow);
}

export async function updatePhase(
  ctx: PostgresContext,
  id: string,
  from: Phase,
  to: Phase,
  patch: MigrationPatch = {},
  fence?: LockFence,
): Promise<MigrationRecord> {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return transaction(ctx, async (db) => {
    const updated = await conditionalUpdate(ctx, db, id, from, { ...patchColumns(patch), phase: to }, fence);
    await appendAudit(ctx, db, {
      migrationId: id,
      vm: updated.vmUuid,
      step: 'phase',
      outcome: to === 'failed' ? 'error' : 'ok',
      detail: { from, to, ...(patch.lastError ? { error: patch.lastError } : {}) },
    });
    return updated;
  });
}

export async function updateDetails(
  ctx: PostgresContext,
  id: string,
  expectedPhase: Phase,
  patch: MigrationPatch,
  fence?: LockFence,
): Promise<MigrationRecord> {
  return conditionalUpdate(ctx, ctx.pool, id, expectedPhase, patchColumns(patch), fence);
}

function patchColumns(patch: MigrationPatch): Record<string, string | number | null> {
  const columns = patchToColumns(patch);
  if (typeof columns.deadline === 'string') columns.deadline = toIsoUtc(columns.deadline);
  return columns;
}

/**
 * One UPDATE guarded by the expected phase and, with a fence, by the VM's lock token, read FOR SHARE: a takeover
 * (which updates the lock row) waits for this statement's transaction, and one committed before it makes the
 * re-checked token differ. The checks and the write are one statement.
 */
async function conditionalUpdate(
  ctx: PostgresContext,
  db: Queryable,
  id: string,
  expectedPhase: Phase,
  columns: Record<string, string | number | null>,
  fence?: LockFence,
): Promise<MigrationRecord> {
  const all = { ...columns, updated_at: ctx.now().toISOString() };
  const names = Object.keys(all);
  const params: unknown[] = [id, expectedPhase, ...Object.values(all)];
  let fenceSql = '';
  if (fence) {
    params.push(fence.token);
    fenceSql = ` AND EXISTS (SELECT 1 FROM locks WHERE vm_key = migrations.vm_uuid AND token = $${params.length} FOR SHARE)`;
  }
  const updated = await row<MigrationRow>(
    db,
    `UPDATE migrations SET ${names.map((n, i) => `${n} = $${i + 3}`).join(', ')}
     WHERE id = $1 AND phase = $2${fenceSql} RETURNING *`,
    params,
  );
  if (updated) return migrationFromRow(updated);
  const current = await getMigration(ctx, id, db);
  if (!current) throw new MigrationNotFoundError(id);
  if (fence && (await lockToken(db, current.vmUuid)) !== fence.token)
    throw new LockLostError(current.vmUuid, await getLockHolder(ctx, current.vmUuid, db));
  throw new PhaseConflictError(id, expectedPhase, current.phase);
}

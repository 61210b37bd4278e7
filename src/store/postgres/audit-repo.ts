import { type AuditRow, auditFromRow } from '../sqlite/rows.js';
import type { AuditEntry, AuditFilter, NewAuditEntry } from '../types.js';
import { type PostgresContext, type Queryable, row, rows } from './context.js';

/** Inserts only: the table's triggers refuse UPDATE, DELETE and TRUNCATE as well. */
export async function appendAudit(
  ctx: PostgresContext,
  db: Queryable,
  entry: NewAuditEntry,
): Promise<AuditEntry> {
  const inserted = await row<AuditRow>(
    db,
    `INSERT INTO audit_log (at, migration_id, vm, step, outcome, detail)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [
      ctx.now().toISOString(),
      entry.migrationId ?? null,
      entry.vm,
      entry.step,
      entry.outcome,
      JSON.stringify(entry.detail ?? {}),
    ],
  );
  return auditFromRow(inserted as AuditRow);
}

export async function listAudit(ctx: PostgresContext, filter: AuditFilter = {}): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.migrationId !== undefined) {
    params.push(filter.migrationId);
    where.push(`migration_id = $${params.length}`);
  }
  if (filter.vm !== undefined) {
    params.push(filter.vm);
    where.push(`vm = $${params.length}`);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  let sql = `SELECT * FROM audit_log ${whereSql} ORDER BY id`;
  if (filter.limit !== undefined) {
    params.push(filter.limit);
    sql = `SELECT * FROM (SELECT * FROM audit_log ${whereSql} ORDER BY id DESC LIMIT $${params.length}) AS recent ORDER BY id`;
  }
  return (await rows<AuditRow>(ctx.pool, sql, params)).map(auditFromRow);
}

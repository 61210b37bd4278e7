import type { AuditEntry, AuditFilter, NewAuditEntry } from '../types.js';
import type { SqliteContext } from './context.js';
import { type AuditRow, auditFromRow } from './rows.js';

/** Inserts only: the table's triggers refuse UPDATE and DELETE as well. */
export function appendAudit(ctx: SqliteContext, entry: NewAuditEntry): AuditEntry {
  const row = ctx.db
    .prepare(
      `INSERT INTO audit_log (at, migration_id, vm, step, outcome, detail)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .get(
      ctx.now().toISOString(),
      entry.migrationId ?? null,
      entry.vm,
      entry.step,
      entry.outcome,
      JSON.stringify(entry.detail ?? {}),
    ) as AuditRow;
  return auditFromRow(row);
}

export function listAudit(ctx: SqliteContext, filter: AuditFilter = {}): AuditEntry[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.migrationId !== undefined) {
    where.push('migration_id = ?');
    params.push(filter.migrationId);
  }
  if (filter.vm !== undefined) {
    where.push('vm = ?');
    params.push(filter.vm);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  let sql = `SELECT * FROM audit_log ${whereSql} ORDER BY id`;
  if (filter.limit !== undefined) {
    sql = `SELECT * FROM (SELECT * FROM audit_log ${whereSql} ORDER BY id DESC LIMIT ?) AS recent ORDER BY id`;
    params.push(filter.limit);
  }
  return (ctx.db.prepare(sql).all(...params) as AuditRow[]).map(auditFromRow);
}

import { randomUUID } from 'node:crypto';
import { DeliveryNotFoundError } from '../errors.js';
import type { DeliveryRecord, NewDelivery } from '../types.js';
import { type SqliteContext, writeTransaction } from './context.js';
import { type DeliveryRow, deliveryFromRow, newDeliveryValues } from './rows.js';

/** Idempotent by dedupe key: a second enqueue with the same key returns the first record unchanged. */
export function enqueueDelivery(ctx: SqliteContext, input: NewDelivery): DeliveryRecord {
  return writeTransaction(ctx, () => {
    const id = randomUUID();
    const dedupeKey = input.dedupeKey ?? id;
    const at = ctx.now().toISOString();
    ctx.db
      .prepare(
        `INSERT INTO deliveries
           (id, dedupe_key, migration_id, kind, channel, recipient, status, attempts, next_attempt_at,
            created_at, updated_at, notice)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)
         ON CONFLICT (dedupe_key) DO NOTHING`,
      )
      .run(...newDeliveryValues(input, id, dedupeKey, at));
    return deliveryFromRow(
      ctx.db.prepare('SELECT * FROM deliveries WHERE dedupe_key = ?').get(dedupeKey) as DeliveryRow,
    );
  });
}

export function listDueDeliveries(ctx: SqliteContext, now: Date, limit: number): DeliveryRecord[] {
  const rows = ctx.db
    .prepare(
      `SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at, created_at, id LIMIT ?`,
    )
    .all(now.toISOString(), limit) as DeliveryRow[];
  return rows.map(deliveryFromRow);
}

export function listDeliveries(ctx: SqliteContext, migrationId: string): DeliveryRecord[] {
  const rows = ctx.db
    .prepare('SELECT * FROM deliveries WHERE migration_id = ? ORDER BY created_at, id')
    .all(migrationId) as DeliveryRow[];
  return rows.map(deliveryFromRow);
}

export function markDeliverySent(ctx: SqliteContext, id: string): DeliveryRecord {
  return markDelivery(
    ctx,
    id,
    `status = 'sent', attempts = attempts + 1, last_error = NULL, updated_at = ?`,
    [ctx.now().toISOString()],
  );
}

export function markDeliveryFailed(
  ctx: SqliteContext,
  id: string,
  error: string,
  retryAt: Date | null,
): DeliveryRecord {
  const at = ctx.now().toISOString();
  if (retryAt) {
    return markDelivery(
      ctx,
      id,
      `attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?`,
      [error, retryAt.toISOString(), at],
    );
  }
  return markDelivery(ctx, id, `status = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ?`, [
    error,
    at,
  ]);
}

function markDelivery(ctx: SqliteContext, id: string, setSql: string, params: string[]): DeliveryRecord {
  return writeTransaction(ctx, () => {
    const result = ctx.db.prepare(`UPDATE deliveries SET ${setSql} WHERE id = ?`).run(...params, id);
    if (result.changes === 0) throw new DeliveryNotFoundError(id);
    return deliveryFromRow(ctx.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow);
  });
}

import { randomUUID } from 'node:crypto';
import { DeliveryNotFoundError } from '../errors.js';
import { type DeliveryRow, deliveryFromRow, newDeliveryValues } from '../sqlite/rows.js';
import type { DeliveryRecord, NewDelivery } from '../types.js';
import { type PostgresContext, row, rows } from './context.js';

/** Idempotent by dedupe key: a second enqueue with the same key returns the first record unchanged. */
export async function enqueueDelivery(ctx: PostgresContext, input: NewDelivery): Promise<DeliveryRecord> {
  const id = randomUUID();
  const dedupeKey = input.dedupeKey ?? id;
  const at = ctx.now().toISOString();
  // One statement: the insert, or on a known key the existing row (a no-op update makes RETURNING yield it).
  const found = await row<DeliveryRow>(
    ctx.pool,
    `INSERT INTO deliveries
       (id, dedupe_key, migration_id, kind, channel, recipient, status, attempts, next_attempt_at,
        created_at, updated_at, notice)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $10)
     ON CONFLICT (dedupe_key) DO UPDATE SET dedupe_key = deliveries.dedupe_key
     RETURNING *`,
    newDeliveryValues(input, id, dedupeKey, at),
  );
  return deliveryFromRow(found as DeliveryRow);
}

export async function listDueDeliveries(
  ctx: PostgresContext,
  now: Date,
  limit: number,
): Promise<DeliveryRecord[]> {
  const found = await rows<DeliveryRow>(
    ctx.pool,
    `SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1
     ORDER BY next_attempt_at, created_at, id LIMIT $2`,
    [now.toISOString(), limit],
  );
  return found.map(deliveryFromRow);
}

export async function listDeliveries(ctx: PostgresContext, migrationId: string): Promise<DeliveryRecord[]> {
  const found = await rows<DeliveryRow>(
    ctx.pool,
    'SELECT * FROM deliveries WHERE migration_id = $1 ORDER BY created_at, id',
    [migrationId],
  );
  return found.map(deliveryFromRow);
}

export function markDeliverySent(ctx: PostgresContext, id: string): Promise<DeliveryRecord> {
  return markDelivery(
    ctx,
    id,
    `status = 'sent', attempts = attempts + 1, last_error = NULL, updated_at = $2`,
    [ctx.now().toISOString()],
  );
}

export function markDeliveryFailed(
  ctx: PostgresContext,
  id: string,
  error: string,
  retryAt: Date | null,
): Promise<DeliveryRecord> {
  const at = ctx.now().toISOString();
  if (retryAt) {
    return markDelivery(
      ctx,
      id,
      'attempts = attempts + 1, last_error = $2, next_attempt_at = $3, updated_at = $4',
      [error, retryAt.toISOString(), at],
    );
  }
  return markDelivery(
    ctx,
    id,
    `status = 'failed', attempts = attempts + 1, last_error = $2, updated_at = $3`,
    [error, at],
  );
}

/** `setSql` numbers its parameters from $2; $1 is the id. */
async function markDelivery(
  ctx: PostgresContext,
  id: string,
  setSql: string,
  params: string[],
): Promise<DeliveryRecord> {
  const found = await row<DeliveryRow>(
    ctx.pool,
    `UPDATE deliveries SET ${setSql} WHERE id = $1 RETURNING *`,
    [id, ...params],
  );
  if (!found) throw new DeliveryNotFoundError(id);
  return deliveryFromRow(found);
}

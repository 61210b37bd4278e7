import { RehomeError } from '../../errors.js';
import type { SchemaUpgradeResult } from '../sqlite/migrate.js';
import type { SchemaStep } from '../sqlite/schema.js';
import { type PostgresContext, type Queryable, row, transaction } from './context.js';

/** One advisory lock key for schema changes: openers on several machines apply each step exactly once. */
const SCHEMA_LOCK_KEY = 0x7265686f; // "reho"

/** The table exists: migratePostgresSchema creates it first. */
async function schemaVersion(db: Queryable): Promise<number> {
  const found = await row<{ version: number | null }>(
    db,
    'SELECT MAX(version) AS version FROM schema_migrations',
  );
  return found?.version ?? 0;
}

/**
 * Brings the database up to the last step, each step in its own transaction under a transaction-scoped advisory lock
 * and re-reading the version inside it, like the SQLite upgrade.
 */
export async function migratePostgresSchema(
  ctx: PostgresContext,
  steps: readonly SchemaStep[],
): Promise<SchemaUpgradeResult> {
  const latest = steps.at(-1)?.version ?? 0;
  await transaction(ctx, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    await db.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
  });
  const from = await schemaVersion(ctx.pool);
  if (from > latest) {
    throw new RehomeError(
      `The state database has schema version ${from}, newer than this rehome knows (${latest})`,
      'config',
      ['Upgrade rehome, or point it at another database.'],
    );
  }
  for (const step of steps) {
    await transaction(ctx, async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
      if ((await schemaVersion(db)) >= step.version) return;
      await db.query(step.sql);
      await db.query('INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)', [
        step.version,
        step.description,
        ctx.now().toISOString(),
      ]);
    });
  }
  return { from, to: await schemaVersion(ctx.pool) };
}

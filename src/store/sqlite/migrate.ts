import type { Database } from 'better-sqlite3';
import { RehomeError } from '../../errors.js';
import type { SchemaStep } from './schema.js';

/** The schema versions before and after migrateSchema. */
export interface SchemaUpgradeResult {
  from: number;
  to: number;
}

export function schemaVersion(db: Database): number {
  const hasTable = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!hasTable) return 0;
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

/**
 * Brings the database up to the last step. Each step runs in its own write transaction and re-reads the version
 * inside it, so two processes opening an old database at once apply each step exactly once.
 */
export function migrateSchema(
  db: Database,
  steps: readonly SchemaStep[],
  now: () => Date,
): SchemaUpgradeResult {
  const latest = steps.at(-1)?.version ?? 0;
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const from = schemaVersion(db);
  if (from > latest) {
    throw new RehomeError(
      `The state database has schema version ${from}, newer than this rehome knows (${latest})`,
      'config',
      ['Upgrade rehome, or point it at another database.'],
    );
  }
  for (const step of steps) {
    db.transaction(() => {
      if (schemaVersion(db) >= step.version) return;
      db.exec(step.sql);
      db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
        step.version,
        step.description,
        now().toISOString(),
      );
    }).immediate();
  }
  return { from, to: schemaVersion(db) };
}

/**
 * The SQLite schema as ordered steps. A step, once released, never changes: add a new one instead. Types stay portable
 * (TEXT, INTEGER; timestamps are ISO-8601 UTC TEXT) so a PostgreSQL schema can mirror these steps one for one; only
 * the triggers and the autoincrement key are dialect-specific.
 *
 * The export_* columns of step 1 are no longer read nor written: a migration's NBD exports, one per disk, are kept in
 * its `job` (MigrationJob.exports in src/migration/types.ts).
 */
export interface SchemaStep {
  version: number;
  description: string;
  sql: string;
}

export const SQLITE_SCHEMA: readonly SchemaStep[] = [
  {
    version: 1,
    description: 'migrations, one active per VM',
    sql: `
      CREATE TABLE migrations (
        id TEXT PRIMARY KEY,
        vm_name TEXT NOT NULL,
        vm_uuid TEXT NOT NULL,
        source_host TEXT NOT NULL,
        target_host TEXT NOT NULL,
        phase TEXT NOT NULL,
        deadline TEXT,
        export_image_path TEXT,
        export_nbd_host TEXT,
        export_nbd_port INTEGER,
        export_name TEXT,
        export_pid INTEGER,
        job TEXT NOT NULL DEFAULT '{}',
        owner TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_error TEXT
      );
      CREATE UNIQUE INDEX migrations_one_active_per_vm ON migrations (vm_uuid)
        WHERE phase NOT IN ('done', 'rolled-back', 'cancelled');
      CREATE INDEX migrations_phase ON migrations (phase);
    `,
  },
  {
    version: 2,
    description: 'append-only audit log',
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        migration_id TEXT REFERENCES migrations (id),
        vm TEXT NOT NULL,
        step TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error', 'info')),
        detail TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_log_migration ON audit_log (migration_id, id);
      CREATE INDEX audit_log_vm ON audit_log (vm, id);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    version: 3,
    description: 'per-VM locks with a lease',
    sql: `
      CREATE TABLE locks (
        vm_key TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        purpose TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'notification deliveries',
    sql: `
      CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        dedupe_key TEXT NOT NULL UNIQUE,
        migration_id TEXT NOT NULL REFERENCES migrations (id),
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
    `,
  },
  {
    version: 5,
    description: 'single-use self-service link tokens; the notice each delivery sends',
    sql: `
      CREATE TABLE used_link_tokens (
        nonce TEXT PRIMARY KEY,
        used_at TEXT NOT NULL
      );
      ALTER TABLE deliveries ADD COLUMN notice TEXT;
    `,
  },
  {
    version: 6,
    description: 'host states (cordoned, draining) and drain records',
    sql: `
      CREATE TABLE host_states (
        host TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('cordoned', 'draining')),
        reason TEXT,
        since TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE drains (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        deadline TEXT,
        concurrency INTEGER NOT NULL,
        bandwidth_bytes_per_sec INTEGER,
        status TEXT NOT NULL CHECK (status IN ('running', 'armed', 'partial', 'failed')),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        last_error TEXT
      );
      CREATE INDEX drains_host ON drains (host, started_at);
      CREATE TABLE drain_vms (
        drain_id TEXT NOT NULL REFERENCES drains (id),
        vm_uuid TEXT NOT NULL,
        vm_name TEXT NOT NULL,
        position INTEGER NOT NULL,
        target_host TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'preparing', 'armed', 'failed', 'blocked')),
        migration_id TEXT,
        detail TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (drain_id, vm_uuid)
      );
    `,
  },
];

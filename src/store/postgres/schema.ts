import { type SchemaStep, SQLITE_SCHEMA } from '../sqlite/schema.js';

/**
 * The PostgreSQL schema: SQLite's steps (src/store/sqlite/schema.ts), same versions, same tables and columns, so that
 * the row mappers are shared (timestamps are ISO-8601 UTC TEXT, which compare as text in both; JSON is TEXT). A step
 * whose SQL is not portable is replaced here, version for version: the audit log (an identity key, and a trigger
 * function for its append-only rule) and the drains (a byte rate beyond INTEGER, and a sequence for insertion order,
 * which SQLite has as rowid). A new SQLite step that PostgreSQL refuses fails the store contract tests, which run on
 * both: give it its PostgreSQL form here.
 */
const POSTGRES_FORMS: Readonly<Record<number, SchemaStep>> = Object.fromEntries(
  [
    {
      version: 2,
      description: 'append-only audit log',
      sql: `
        CREATE TABLE audit_log (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          at TEXT NOT NULL,
          migration_id TEXT REFERENCES migrations (id),
          vm TEXT NOT NULL,
          step TEXT NOT NULL,
          outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error', 'info')),
          detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_log_migration ON audit_log (migration_id, id);
        CREATE INDEX audit_log_vm ON audit_log (vm, id);
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'restrict_violation'; END;
        $$;
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
          FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
          FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
          FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
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
          bandwidth_bytes_per_sec BIGINT,
          status TEXT NOT NULL CHECK (status IN ('running', 'armed', 'partial', 'failed')),
          started_at TEXT NOT NULL,
          finished_at TEXT,
          last_error TEXT,
          seq BIGINT GENERATED ALWAYS AS IDENTITY
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
  ].map((step) => [step.version, step]),
);

export const POSTGRES_SCHEMA: readonly SchemaStep[] = SQLITE_SCHEMA.map(
  (step) => POSTGRES_FORMS[step.version] ?? step,
);

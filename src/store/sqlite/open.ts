import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isPidAlive } from '../process-alive.js';
import type { Store } from '../types.js';
import type { SqliteContext } from './context.js';
import { enforceFileModes, prepareDbFile } from './file-mode.js';
import { migrateSchema, type SchemaUpgradeResult } from './migrate.js';
import { type SchemaStep, SQLITE_SCHEMA } from './schema.js';
import { SqliteStore } from './sqlite-store.js';

export const DEFAULT_DB_FILE = 'rehome.db';

/** `<dataDir>/rehome.db`; pass oclif's `config.dataDir`. */
export function defaultStorePath(dataDir: string): string {
  return join(dataDir, DEFAULT_DB_FILE);
}

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's write transaction. */
  busyTimeoutMs?: number;
  now?: () => Date;
  /** This host's name, as lock owners on it record it. */
  localHost?: string;
  isPidAlive?: (pid: number) => boolean;
  /** For tests of upgrades: stop at an older schema. */
  schema?: readonly SchemaStep[];
}

export interface OpenedSqliteStore extends Store {
  readonly path: string;
  readonly schema: SchemaUpgradeResult;
  /** Files whose mode was looser than 0600 at open and were fixed. */
  readonly fixedModes: readonly string[];
}

/**
 * Opens (creating if needed) the state database: parent dir 0700, files 0600 (checked and fixed before every open,
 * WAL companions included; SQLite gives the WAL files it creates the database file's mode), WAL journal, busy timeout, schema brought up to date.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): OpenedSqliteStore {
  const inMemory = path === ':memory:';
  if (!inMemory) prepareDbFile(path);
  const fixedModes = inMemory ? [] : enforceFileModes(path);
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    const now = options.now ?? (() => new Date());
    const schema = migrateSchema(db, options.schema ?? SQLITE_SCHEMA, now);
    const ctx: SqliteContext = {
      db,
      now,
      localHost: options.localHost ?? hostname(),
      isPidAlive: options.isPidAlive ?? isPidAlive,
    };
    return Object.assign(new SqliteStore(ctx), { path, schema, fixedModes });
  } catch (err) {
    db.close();
    throw err;
  }
}

import type { Database } from 'better-sqlite3';

/** What every SQLite repository shares: the connection, the clock and this host's identity. */
export interface SqliteContext {
  db: Database;
  now(): Date;
  localHost: string;
  isPidAlive(pid: number): boolean;
}

/** Runs fn in a write transaction taken at once (BEGIN IMMEDIATE), so check-then-write is atomic across processes. */
export function writeTransaction<T>(ctx: SqliteContext, fn: () => T): T {
  return ctx.db.transaction(fn).immediate();
}

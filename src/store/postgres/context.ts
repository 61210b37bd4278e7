import type { Pool, PoolClient, QueryResultRow } from 'pg';

/** A pool or one checked-out client inside a transaction: both run queries. */
export type Queryable = Pool | PoolClient;

/** What every PostgreSQL repository shares: the pool, the clock and this host's identity. */
export interface PostgresContext {
  pool: Pool;
  now(): Date;
  localHost: string;
  isPidAlive(pid: number): boolean;
}

export async function rows<T extends QueryResultRow>(
  db: Queryable,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  return (await db.query<T>(sql, params as unknown[])).rows;
}

export async function row<T extends QueryResultRow>(
  db: Queryable,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T | undefined> {
  return (await rows<T>(db, sql, params))[0];
}

/**
 * Runs fn in one transaction on one client. READ COMMITTED, as PostgreSQL's default: the repositories make each
 * check-then-write atomic with row locks (SELECT … FOR UPDATE) or a single conditional statement.
 */
export async function transaction<T>(ctx: PostgresContext, fn: (db: PoolClient) => Promise<T>): Promise<T> {
  const client = await ctx.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that cannot even roll back is closed rather than handed to the next caller.
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      broken = rollbackErr;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/** `$1, $2, …` from `start` for n values: the placeholders of an IN list. */
export function placeholders(count: number, start = 1): string {
  return Array.from({ length: count }, (_, i) => `$${start + i}`).join(', ');
}

import { hostname } from 'node:os';
import pg from 'pg';
import { RehomeError } from '../../errors.js';
import { isPidAlive } from '../process-alive.js';
import type { SchemaUpgradeResult } from '../sqlite/migrate.js';
import type { SchemaStep } from '../sqlite/schema.js';
import type { Store } from '../types.js';
import type { PostgresContext } from './context.js';
import { migratePostgresSchema } from './migrate.js';
import { PostgresStore } from './postgres-store.js';
import { POSTGRES_SCHEMA } from './schema.js';

export interface PostgresStoreOptions {
  /** The clock leases are judged by; default: this machine's clock corrected by the server's offset at open. */
  now?: () => Date;
  /** This host's name, as lock owners on it record it. */
  localHost?: string;
  isPidAlive?: (pid: number) => boolean;
  /** A schema (namespace) to keep rehome's tables in, created if missing; default: the role's search_path. */
  schema?: string;
  /** Pool size; one watch replica needs few (default 4). */
  maxConnections?: number;
  /** For tests of upgrades: stop at an older schema. */
  steps?: readonly SchemaStep[];
}

export interface OpenedPostgresStore extends Store {
  readonly url: string;
  readonly schema: SchemaUpgradeResult;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL without its password, for messages (works on socket URLs with an empty host too). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@?]*):[^@]*@/i, '$1:***@');
}

const INT8_OID = 20;

/**
 * Connects a pool to the server, brings the schema up to date (safe with several machines opening at once) and
 * measures the server clock's offset so that every replica judges leases by one clock.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<OpenedPostgresStore> {
  const schemaName = options.schema;
  if (schemaName !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schemaName))
    throw new RehomeError(`Not a usable PostgreSQL schema name: ${schemaName}`, 'config');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 4,
    application_name: 'rehome',
    ...(schemaName ? { options: `-c search_path=${schemaName}` } : {}),
    // Audit ids and byte counts are BIGINT; JavaScript numbers hold them exactly up to 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client whose server connection drops emits 'error' on the pool; the next query reports it instead.
  pool.on('error', () => {});
  try {
    if (schemaName) await createSchema(pool, schemaName);
    const now = options.now ?? clockOf(await serverOffsetMs(pool));
    const ctx: PostgresContext = {
      pool,
      now,
      localHost: options.localHost ?? hostname(),
      isPidAlive: options.isPidAlive ?? isPidAlive,
    };
    const schema = await migratePostgresSchema(ctx, options.steps ?? POSTGRES_SCHEMA);
    return Object.assign(new PostgresStore(ctx), { url: redactUrl(url), schema });
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof RehomeError) throw err;
    throw new RehomeError(
      `Cannot open the PostgreSQL store at ${redactUrl(url)}: ${(err as Error).message}`,
      'unreachable',
      [
        "Check store.url in the rehome config, the server, and the role's rights (CREATE on the database or schema).",
      ],
      { cause: err },
    );
  }
}

async function createSchema(pool: pg.Pool, name: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${name}`);
  } catch (err) {
    // Two openers creating it at once: one gets a unique violation on the catalog; the schema exists either way.
    if ((err as { code?: string }).code !== '23505') throw err;
  }
}

/** Server clock minus ours, measured at the middle of one round trip. */
async function serverOffsetMs(pool: pg.Pool): Promise<number> {
  const before = Date.now();
  const result = await pool.query<{ ms: number }>(
    'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms',
  );
  const after = Date.now();
  return Math.round((result.rows[0]?.ms ?? after) - (before + after) / 2);
}

function clockOf(offsetMs: number): () => Date {
  return () => new Date(Date.now() + offsetMs);
}

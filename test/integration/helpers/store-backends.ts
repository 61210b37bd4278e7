import { randomBytes } from 'node:crypto';
import type { TestFn } from 'ava';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openPostgresStore } from '../../../src/store/postgres/open.js';
import { openSqliteStore } from '../../../src/store/sqlite/open.js';
import type { Store } from '../../../src/store/types.js';
import { type TestPostgres, testPostgres } from '../../pg/private-cluster.js';
import { tempDbPath } from './temp-store.js';

type Teardown = { teardown(fn: () => unknown): void };

export interface StoreTestOptions {
  now?: () => Date;
  localHost?: string;
  isPidAlive?: (pid: number) => boolean;
}

export interface OpenedTestStore {
  /** Two connections to one fresh store, as two processes would hold. */
  store: Store;
  other: Store;
  /** Runs SQL beside the store, for checks of what the schema itself refuses: 'no error' or `<code>: <message>`. */
  rawFailure(sql: string, params?: unknown[]): Promise<string>;
}

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** Error codes the schema raises, per backend. */
  codes: { unique: string; check: string; foreignKey: string; appendOnly: string };
  open(t: Teardown, options?: StoreTestOptions): Promise<OpenedTestStore>;
}

function failureOf(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${e.code}: ${e.message}`;
}

const sqlite: StoreBackend = {
  name: 'sqlite',
  codes: {
    unique: 'SQLITE_CONSTRAINT_UNIQUE',
    check: 'SQLITE_CONSTRAINT_CHECK',
    foreignKey: 'SQLITE_CONSTRAINT_FOREIGNKEY',
    appendOnly: 'SQLITE_CONSTRAINT_TRIGGER',
  },
  async open(t, options = {}) {
    const path = tempDbPath(t);
    const store = openSqliteStore(path, options);
    const other = openSqliteStore(path, options);
    t.teardown(() => store.close());
    t.teardown(() => other.close());
    return {
      store,
      other,
      async rawFailure(sql, params = []) {
        const raw = new Database(path);
        try {
          raw.prepare(sql.replace(/\$\d+/g, '?')).run(...(params as unknown[]));
          return 'no error';
        } catch (err) {
          return failureOf(err);
        } finally {
          raw.close();
        }
      },
    };
  },
};

/**
 * PostgreSQL: the server of REHOME_TEST_PG_URL (the test command starts one), else a private cluster for this test
 * file, stopped after its last test. Each test gets its own schema, dropped when it ends.
 */
function postgres(test: TestFn): StoreBackend {
  let server: TestPostgres | undefined;
  test.after.always(() => server?.stop());
  return {
    name: 'postgres',
    codes: { unique: '23505', check: '23514', foreignKey: '23503', appendOnly: '23001' },
    async open(t, options = {}) {
      server ??= testPostgres();
      const url = server.url;
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const store = await openPostgresStore(url, { ...options, schema });
      const other = await openPostgresStore(url, { ...options, schema });
      t.teardown(async () => {
        await store.close();
        await other.close();
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      });
      return {
        store,
        other,
        async rawFailure(sql, params = []) {
          const raw = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
          await raw.connect();
          try {
            await raw.query(sql, params);
            return 'no error';
          } catch (err) {
            return failureOf(err);
          } finally {
            await raw.end();
          }
        },
      };
    },
  };
}

/** Both backends, for a contract test written once: `for (const backend of storeBackends(test)) test(…)`. */
export function storeBackends(test: TestFn): StoreBackend[] {
  return [sqlite, postgres(test)];
}

import test from 'ava';
import Database from 'better-sqlite3';
import { RehomeError } from '../../src/errors.js';
import { openSqliteStore } from '../../src/store/index.js';
import { SQLITE_SCHEMA } from '../../src/store/sqlite/schema.js';
import { tempDbPath } from './helpers/temp-store.js';

function tables(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    return (rows as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

const latest = SQLITE_SCHEMA.length;

test('an empty file (version 0) is brought to the latest version', async (t) => {
  const path = tempDbPath(t);
  new Database(path).close();
  t.deepEqual(tables(path), []);

  const store = openSqliteStore(path);
  t.teardown(() => store.close());
  t.deepEqual(store.schema, { from: 0, to: latest });
  t.deepEqual(tables(path), [
    'audit_log',
    'deliveries',
    'drain_vms',
    'drains',
    'host_states',
    'locks',
    'migrations',
    'schema_migrations',
    'used_link_tokens',
  ]);
});

test('an old database is upgraded on open, keeping its data', async (t) => {
  const path = tempDbPath(t);
  const old = openSqliteStore(path, { schema: SQLITE_SCHEMA.slice(0, 1) });
  t.deepEqual(old.schema, { from: 0, to: 1 });
  await old.close();
  // A row written by the version-1 rehome, before audit_log existed.
  const raw = new Database(path);
  raw
    .prepare(
      `INSERT INTO migrations (id, vm_name, vm_uuid, source_host, target_host, phase, created_at, updated_at)
       VALUES ('m-old', 'web1', 'u1', 'a', 'b', 'armed', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
    )
    .run();
  raw.close();
  t.deepEqual(tables(path), ['migrations', 'schema_migrations']);

  const store = openSqliteStore(path);
  t.teardown(() => store.close());
  t.deepEqual(store.schema, { from: 1, to: latest });
  const kept = await store.getMigration('m-old');
  t.is(kept?.phase, 'armed');
  t.deepEqual(kept?.job, {});
  await store.updatePhase('m-old', 'armed', 'cutover');
  t.deepEqual(
    (await store.listAudit({ migrationId: 'm-old' })).map((e) => e.detail),
    [{ from: 'armed', to: 'cutover' }],
  );
});

test('reopening an up-to-date database applies nothing', (t) => {
  const path = tempDbPath(t);
  openSqliteStore(path).close();
  const again = openSqliteStore(path);
  t.teardown(() => again.close());
  t.deepEqual(again.schema, { from: latest, to: latest });
  const raw = new Database(path, { readonly: true });
  t.is((raw.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n, latest);
  raw.close();
});

test('a database from a newer rehome is refused with a config error', (t) => {
  const path = tempDbPath(t);
  openSqliteStore(path).close();
  const raw = new Database(path);
  raw
    .prepare("INSERT INTO schema_migrations VALUES (?, 'from the future', '2027-01-01T00:00:00.000Z')")
    .run(latest + 1);
  raw.close();
  const err = t.throws(() => openSqliteStore(path), { instanceOf: RehomeError });
  t.regex(
    err?.message ?? '',
    new RegExp(`schema version ${latest + 1}, newer than this rehome knows \\(${latest}\\)`),
  );
  t.is(err?.kind, 'config');
});

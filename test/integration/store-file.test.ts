import { execFileSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import Database from 'better-sqlite3';
import { defaultStorePath, openSqliteStore } from '../../src/store/index.js';
import { tempDbPath, tempStoreDir } from './helpers/temp-store.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;
const phaseReader = fileURLToPath(new URL('./helpers/store-read-phases.ts', import.meta.url));
const phasesSeenByAnotherProcess = (path: string) =>
  execFileSync(process.execPath, ['--import', 'tsx', phaseReader, path], { encoding: 'utf8' });

test('a process that keeps the store open: each commit is seen at once by other processes', async (t) => {
  // A watch or migrate process runs for hours; `rehome status` in another process must see each phase as it is written.
  // Checking file modes once opened dropped SQLite's POSIX locks, and other processes stopped seeing its commits.
  const path = tempDbPath(t);
  const store = openSqliteStore(path);
  t.teardown(() => store.close());
  const created = await store.createMigration({
    vmName: 'v1',
    vmUuid: 'u1',
    sourceHost: 'a',
    targetHost: 'b',
  });
  t.is(phasesSeenByAnotherProcess(path), 'planned');
  await store.updatePhase(created.id, 'planned', 'preparing');
  t.is(phasesSeenByAnotherProcess(path), 'preparing');
  await store.updatePhase(created.id, 'preparing', 'mirroring');
  t.is(phasesSeenByAnotherProcess(path), 'mirroring');
});

test('a new database lives in a 0700 dir, and it and its WAL files are 0600', async (t) => {
  const dataDir = join(tempStoreDir(t), 'data', 'rehome');
  const path = defaultStorePath(dataDir);
  t.is(path, join(dataDir, 'rehome.db'));
  const oldUmask = process.umask(0o022);
  const store = openSqliteStore(path);
  process.umask(oldUmask);
  t.teardown(() => store.close());
  await store.appendAudit({ vm: 'u1', step: 'probe', outcome: 'info' });

  t.is(modeOf(dataDir), 0o700);
  t.is(modeOf(path), 0o600);
  t.is(modeOf(`${path}-wal`), 0o600);
  t.is(modeOf(`${path}-shm`), 0o600);
  t.deepEqual(store.fixedModes, []);
});

test('loose modes on an existing database and its WAL files are fixed on open', async (t) => {
  const path = tempDbPath(t);
  const first = openSqliteStore(path);
  await first.appendAudit({ vm: 'u1', step: 'probe', outcome: 'info' });
  for (const f of [path, `${path}-wal`, `${path}-shm`]) chmodSync(f, 0o644);

  const second = openSqliteStore(path);
  t.teardown(() => second.close());
  await first.close();
  t.deepEqual([...second.fixedModes].sort(), [path, `${path}-shm`, `${path}-wal`]);
  t.is(modeOf(path), 0o600);
  t.is(modeOf(`${path}-wal`), 0o600);
  t.is(modeOf(`${path}-shm`), 0o600);
  t.is((await second.listAudit({ vm: 'u1' })).length, 1);
});

test('an existing parent directory is not touched (it may be shared)', async (t) => {
  const dir = tempStoreDir(t);
  chmodSync(dir, 0o755);
  const store = openSqliteStore(join(dir, 'state.db'));
  t.teardown(() => store.close());
  t.is(modeOf(dir), 0o755);
  t.is(modeOf(join(dir, 'state.db')), 0o600);
});

test('WAL journal is persistent, and a writer waits busy_timeout for another process’s write lock', async (t) => {
  const path = tempDbPath(t);
  const store = openSqliteStore(path, { busyTimeoutMs: 300 });
  t.teardown(() => store.close());
  const other = new Database(path);
  t.teardown(() => other.close());
  t.is(other.pragma('journal_mode', { simple: true }), 'wal');

  other.exec('BEGIN IMMEDIATE');
  const started = performance.now();
  const code = await store.appendAudit({ vm: 'u1', step: 'probe', outcome: 'info' }).then(
    () => 'no error',
    (err: { code?: string }) => err.code,
  );
  const waited = performance.now() - started;
  other.exec('ROLLBACK');
  t.is(code, 'SQLITE_BUSY');
  t.true(waited >= 250, `gave up after ${waited.toFixed(0)} ms`);
  await t.notThrowsAsync(store.appendAudit({ vm: 'u1', step: 'probe', outcome: 'info' }));
});

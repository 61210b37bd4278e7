import test from 'ava';
import { parseConfigText } from '../../src/config/config-file.js';
import { RehomeError } from '../../src/errors.js';
import { openPostgresStore, openStore } from '../../src/store/index.js';
import { type TestPostgres, testPostgres } from '../pg/private-cluster.js';
import { tempDbPath } from './helpers/temp-store.js';

let server: TestPostgres | undefined;
test.after.always(() => server?.stop());

test('store.url takes a PostgreSQL URL and nothing else', (t) => {
  const { config } = parseConfigText('c.yaml', 'store:\n  url: postgresql://rehome@db/rehome?host=/run/pg\n');
  t.is(config.store?.url, 'postgresql://rehome@db/rehome?host=/run/pg');
  t.is(parseConfigText('c.yaml', 'hosts: []\n').config.store, undefined);
  const err = t.throws(() => parseConfigText('c.yaml', 'store:\n  url: /var/lib/rehome.db\n'));
  t.regex(err?.message ?? '', /c\.yaml:2:\d+: .*postgres:\/\/ or postgresql:\/\//);
  t.throws(() => parseConfigText('c.yaml', 'store:\n  path: x\n'), undefined, 'unknown keys are refused');
});

test('openStore: SQLite in the data dir without a URL, the server with one; same schema version', async (t) => {
  server ??= testPostgres();
  const sqlite = await openStore({ sqlitePath: tempDbPath(t) });
  t.teardown(() => sqlite.close());
  t.is((sqlite as { path?: string }).path?.endsWith('rehome.db'), true);
  const pg = await openStore({ url: server.url, sqlitePath: '/nonexistent/never-opened.db' });
  t.teardown(() => pg.close());
  t.deepEqual(
    (pg as { schema?: { to: number } }).schema?.to,
    (sqlite as { schema?: { to: number } }).schema?.to,
  );
});

test('an unreachable server is an `unreachable` error naming the URL without its password', async (t) => {
  const err = await t.throwsAsync(
    openPostgresStore('postgresql://rehome:s3cret@/rehome?host=/nonexistent-socket-dir'),
    { instanceOf: RehomeError },
  );
  t.is(err?.kind, 'unreachable');
  t.notRegex(err?.message ?? '', /s3cret/);
  t.regex(err?.message ?? '', /Cannot open the PostgreSQL store at postgresql:\/\/rehome:\*\*\*@/);
});

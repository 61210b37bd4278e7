import test from 'ava';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/index.js';
import { fixedClock } from '../helpers/fixed-clock.js';
import { sqliteFailure, tempDbPath } from './helpers/temp-store.js';

function openTemp(t: { teardown(fn: () => void): void }) {
  const path = tempDbPath(t);
  const clock = fixedClock('2026-11-25T10:00:00.000Z', { tickMs: 1000 });
  const store = openSqliteStore(path, { now: clock.now });
  t.teardown(() => store.close());
  return { path, store };
}

test('entries are appended with time, outcome and detail, and listed oldest first', async (t) => {
  const { store } = openTemp(t);
  await store.appendAudit({ vm: 'u1', step: 'pause', outcome: 'ok', detail: { afterEventMs: 23 } });
  await store.appendAudit({ vm: 'u2', step: 'inventory', outcome: 'info' });
  await store.appendAudit({ vm: 'u1', step: 'converge', outcome: 'error', detail: { error: 'timeout' } });

  const u1 = await store.listAudit({ vm: 'u1' });
  t.deepEqual(
    u1.map((e) => [e.step, e.outcome, e.detail, e.migrationId]),
    [
      ['pause', 'ok', { afterEventMs: 23 }, null],
      ['converge', 'error', { error: 'timeout' }, null],
    ],
  );
  t.true((u1[0]?.at ?? '') < (u1[1]?.at ?? ''));
  t.deepEqual(
    (await store.listAudit({ limit: 2 })).map((e) => e.step),
    ['inventory', 'converge'],
  );
});

test('the table itself refuses UPDATE and DELETE, whoever asks', async (t) => {
  const { path, store } = openTemp(t);
  const entry = await store.appendAudit({ vm: 'u1', step: 'pause', outcome: 'ok' });
  const raw = new Database(path);
  t.teardown(() => raw.close());

  t.regex(
    sqliteFailure(() => raw.prepare("UPDATE audit_log SET outcome = 'error' WHERE id = ?").run(entry.id)),
    /^SQLITE_CONSTRAINT_TRIGGER: audit_log is append-only/,
  );
  t.regex(
    sqliteFailure(() => raw.prepare('DELETE FROM audit_log').run()),
    /append-only/,
  );
  t.deepEqual(await store.listAudit(), [entry]);
});

test('an unknown outcome is refused by the schema', async (t) => {
  const { store } = openTemp(t);
  const failure = await store
    // @ts-expect-error: the type forbids it too; the schema must hold against untyped callers.
    .appendAudit({ vm: 'u1', step: 'x', outcome: 'maybe' })
    .then(
      () => 'no error',
      (err: { code?: string }) => err.code,
    );
  t.is(failure, 'SQLITE_CONSTRAINT_CHECK');
});

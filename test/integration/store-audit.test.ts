import test from 'ava';
import { fixedClock } from '../helpers/fixed-clock.js';
import { storeBackends } from './helpers/store-backends.js';

for (const backend of storeBackends(test)) {
  const openTemp = (t: { teardown(fn: () => unknown): void }) =>
    backend.open(t, { now: fixedClock('2026-11-25T10:00:00.000Z', { tickMs: 1000 }).now });

  test(`${backend.name}: entries are appended with time, outcome and detail, and listed oldest first`, async (t) => {
    const { store } = await openTemp(t);
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

  test(`${backend.name}: the table itself refuses UPDATE and DELETE, whoever asks`, async (t) => {
    const { store, rawFailure } = await openTemp(t);
    const entry = await store.appendAudit({ vm: 'u1', step: 'pause', outcome: 'ok' });
    const refused = new RegExp(`^${backend.codes.appendOnly}: audit_log is append-only`);
    t.regex(await rawFailure("UPDATE audit_log SET outcome = 'error' WHERE id = $1", [entry.id]), refused);
    t.regex(await rawFailure('DELETE FROM audit_log'), refused);
    t.deepEqual(await store.listAudit(), [entry]);
  });

  test(`${backend.name}: an unknown outcome is refused by the schema`, async (t) => {
    const { store } = await openTemp(t);
    const failure = await store
      // @ts-expect-error: the type forbids it too; the schema must hold against untyped callers.
      .appendAudit({ vm: 'u1', step: 'x', outcome: 'maybe' })
      .then(
        () => 'no error',
        (err: { code?: string }) => err.code,
      );
    t.is(failure, backend.codes.check);
  });
}

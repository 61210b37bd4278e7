import test from 'ava';
import { DeliveryNotFoundError, type Store } from '../../src/store/index.js';
import { fixedClock } from '../helpers/fixed-clock.js';
import { type StoreBackend, storeBackends } from './helpers/store-backends.js';

async function openWithMigration(backend: StoreBackend, t: { teardown(fn: () => unknown): void }) {
  const clock = fixedClock('2026-11-25T10:00:00.000Z');
  const { store }: { store: Store } = await backend.open(t, { now: clock.now });
  const migration = await store.createMigration({
    vmName: 'web1',
    vmUuid: 'u1',
    sourceHost: 'a',
    targetHost: 'b',
  });
  return { store, clock, migrationId: migration.id };
}

for (const backend of storeBackends(test)) {
  const mail = { kind: 'armed', channel: 'smtp', recipient: 'ann@example.org' };

  test(`${backend.name}: enqueued deliveries are due at once or at notBefore, and a dedupe key enqueues once`, async (t) => {
    const { store, clock, migrationId } = await openWithMigration(backend, t);
    const now = await store.enqueueDelivery({ ...mail, migrationId, dedupeKey: 'web1:armed' });
    const again = await store.enqueueDelivery({
      ...mail,
      migrationId,
      dedupeKey: 'web1:armed',
      recipient: 'bob',
    });
    t.deepEqual(again, now);
    const later = await store.enqueueDelivery({
      ...mail,
      migrationId,
      kind: 'reminder',
      notBefore: '2026-11-26T10:00:00.000Z',
    });
    t.like(now, { status: 'pending', attempts: 0, nextAttemptAt: '2026-11-25T10:00:00.000Z' });

    t.deepEqual(
      (await store.listDueDeliveries()).map((d) => d.id),
      [now.id],
    );
    clock.ms = Date.parse('2026-11-26T10:00:00.000Z');
    t.deepEqual(
      (await store.listDueDeliveries()).map((d) => d.id),
      [now.id, later.id],
    );
    t.is((await store.listDueDeliveries(undefined, 1)).length, 1);
    t.is((await store.listDeliveries(migrationId)).length, 2);
  });

  test(`${backend.name}: a failure with a retry time stays pending; without one it fails for good; sent is final`, async (t) => {
    const { store, clock, migrationId } = await openWithMigration(backend, t);
    const d = await store.enqueueDelivery({ ...mail, migrationId });
    const retry = await store.markDeliveryFailed(
      d.id,
      'connection refused',
      new Date('2026-11-25T10:05:00.000Z'),
    );
    t.like(retry, { status: 'pending', attempts: 1, lastError: 'connection refused' });
    t.deepEqual(await store.listDueDeliveries(), []);
    clock.ms = Date.parse('2026-11-25T10:05:00.000Z');
    t.is((await store.listDueDeliveries()).length, 1);

    const sent = await store.markDeliverySent(d.id);
    t.like(sent, { status: 'sent', attempts: 2, lastError: null });
    t.deepEqual(await store.listDueDeliveries(), []);

    const other = await store.enqueueDelivery({ ...mail, migrationId, kind: 'done' });
    t.like(await store.markDeliveryFailed(other.id, '550 no such user'), { status: 'failed', attempts: 1 });
    t.deepEqual(await store.listDueDeliveries(), []);
    await t.throwsAsync(store.markDeliverySent('nope'), { instanceOf: DeliveryNotFoundError });
  });

  test(`${backend.name}: a delivery must belong to a known migration`, async (t) => {
    const { store } = await openWithMigration(backend, t);
    const code = await store.enqueueDelivery({ ...mail, migrationId: 'nope' }).then(
      () => 'no error',
      (err: { code?: string }) => err.code,
    );
    t.is(code, backend.codes.foreignKey);
  });
}

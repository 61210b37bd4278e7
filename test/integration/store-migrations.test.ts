import test from 'ava';
import {
  ActiveMigrationError,
  IllegalTransitionError,
  LockLostError,
  MigrationNotFoundError,
  type NewMigration,
  PhaseConflictError,
} from '../../src/store/index.js';
import { fixedClock } from '../helpers/fixed-clock.js';
import { storeBackends } from './helpers/store-backends.js';

const web1: NewMigration = { vmName: 'web1', vmUuid: 'uuid-web1', sourceHost: 'lab-a', targetHost: 'lab-b' };

/** The store contract for migrations, on SQLite and on PostgreSQL. */
for (const backend of storeBackends(test)) {
  const openTemp = (t: { teardown(fn: () => unknown): void }) => backend.open(t);

  test(`${backend.name}: create, get by id and by VM, with fields as given`, async (t) => {
    const { store } = await openTemp(t);
    const created = await store.createMigration({
      ...web1,
      deadline: '2026-12-01T12:00:00+01:00',
      owner: 'ann@example.org',
      job: {
        disks: [
          {
            target: 'vda',
            sourcePath: '/a.qcow2',
            targetPath: '/b.qcow2',
            format: 'qcow2',
            virtualSizeBytes: 1,
          },
        ],
      },
    });
    t.is(created.phase, 'planned');
    t.is(created.deadline, '2026-12-01T11:00:00.000Z');
    t.deepEqual(await store.getMigration(created.id), created);
    t.deepEqual(await store.getActiveMigration('uuid-web1'), created);
    t.is(await store.getMigration('nope'), undefined);
    const audit = await store.listAudit({ migrationId: created.id });
    t.deepEqual(
      audit.map((e) => [e.step, e.outcome, e.vm]),
      [['created', 'ok', 'uuid-web1']],
    );
  });

  test(`${backend.name}: one active migration per VM; a finished one does not count`, async (t) => {
    const { store } = await openTemp(t);
    const first = await store.createMigration(web1);
    const err = await t.throwsAsync(store.createMigration({ ...web1, targetHost: 'lab-c' }), {
      instanceOf: ActiveMigrationError,
    });
    t.is(err?.existingId, first.id);
    t.is(err?.kind, 'locked');
    await store.createMigration({ ...web1, vmName: 'db1', vmUuid: 'uuid-db1' });

    await store.updatePhase(first.id, 'planned', 'cancelled');
    const second = await store.createMigration({ ...web1, targetHost: 'lab-c' });
    t.is((await store.getActiveMigration('uuid-web1'))?.id, second.id);
    t.is((await store.listMigrations({ vm: 'web1' })).length, 2);
  });

  test(`${backend.name}: the unique partial index holds even for a writer that skips the check`, async (t) => {
    const { store, rawFailure } = await openTemp(t);
    await store.createMigration(web1);
    const insert = `INSERT INTO migrations (id, vm_name, vm_uuid, source_host, target_host, phase, created_at, updated_at)
     VALUES ($1, 'web1', 'uuid-web1', 'a', 'b', $2, 'x', 'x')`;
    t.regex(await rawFailure(insert, ['sneaky', 'armed']), new RegExp(`^${backend.codes.unique}: `));
    t.is(await rawFailure(insert, ['history', 'done']), 'no error', 'terminal rows are history, many per VM');
  });

  test(`${backend.name}: optimistic phase update: the second of two processes to move a migration fails cleanly`, async (t) => {
    const { store, other } = await openTemp(t);
    const m = await store.createMigration(web1);

    const moved = await other.updatePhase(m.id, 'planned', 'preparing');
    t.is(moved.phase, 'preparing');
    const err = await t.throwsAsync(store.updatePhase(m.id, 'planned', 'cancelled'), {
      instanceOf: PhaseConflictError,
    });
    t.is(err?.actual, 'preparing');
    t.is((await store.getMigration(m.id))?.phase, 'preparing');
    t.deepEqual(
      (await store.listAudit({ migrationId: m.id })).map((e) => e.step),
      ['created', 'phase'],
      'the failed move left no audit entry',
    );
  });

  test(`${backend.name}: illegal moves and unknown ids are refused`, async (t) => {
    const { store } = await openTemp(t);
    const m = await store.createMigration(web1);
    await t.throwsAsync(store.updatePhase(m.id, 'planned', 'done'), { instanceOf: IllegalTransitionError });
    await t.throwsAsync(store.updatePhase('nope', 'planned', 'preparing'), {
      instanceOf: MigrationNotFoundError,
    });
    t.is((await store.getMigration(m.id))?.phase, 'planned');
  });

  test(`${backend.name}: phase updates carry a patch and journal the move; details update under the same check`, async (t) => {
    const { store } = await openTemp(t);
    const m = await store.createMigration(web1);
    const job = { exports: [{ disk: 'vda', exportName: 'web1', pid: 99 }] };
    await store.updatePhase(m.id, 'planned', 'preparing', { job });
    const withPid = await store.updateDetails(m.id, 'preparing', {
      job: { exports: [{ disk: 'vda', exportName: 'web1', pid: 100 }] },
    });
    t.deepEqual(withPid.job.exports, [{ disk: 'vda', exportName: 'web1', pid: 100 }]);
    await t.throwsAsync(store.updateDetails(m.id, 'armed', { lastError: 'x' }), {
      instanceOf: PhaseConflictError,
    });

    const failed = await store.updatePhase(m.id, 'preparing', 'failed', { lastError: 'qemu-nbd died' });
    t.is(failed.lastError, 'qemu-nbd died');
    t.deepEqual(failed.job, withPid.job);
    const last = (await store.listAudit({ migrationId: m.id, limit: 1 }))[0];
    t.deepEqual(
      [last?.step, last?.outcome, last?.detail],
      ['phase', 'error', { from: 'preparing', to: 'failed', error: 'qemu-nbd died' }],
    );
  });

  test(`${backend.name}: list filters by phase, host, VM and activity`, async (t) => {
    const { store } = await openTemp(t);
    const a = await store.createMigration(web1);
    const b = await store.createMigration({
      vmName: 'db1',
      vmUuid: 'uuid-db1',
      sourceHost: 'lab-b',
      targetHost: 'lab-c',
    });
    const c = await store.createMigration({
      vmName: 'mx1',
      vmUuid: 'uuid-mx1',
      sourceHost: 'lab-c',
      targetHost: 'lab-a',
    });
    await store.updatePhase(c.id, 'planned', 'cancelled');
    const ids = (list: { id: string }[]) => list.map((m) => m.id).sort();

    t.deepEqual(ids(await store.listMigrations()), ids([a, b, c]));
    t.deepEqual(ids(await store.listMigrations({ host: 'lab-b' })), ids([a, b]));
    t.deepEqual(ids(await store.listMigrations({ host: 'lab-a', activeOnly: true })), ids([a]));
    t.deepEqual(ids(await store.listMigrations({ phase: 'cancelled' })), ids([c]));
    t.deepEqual(
      ids(await store.listMigrations({ phase: ['planned', 'cancelled'], host: 'lab-c' })),
      ids([b, c]),
    );
    t.deepEqual(ids(await store.listMigrations({ vm: 'uuid-db1' })), ids([b]));
    t.deepEqual(await store.listMigrations({ phase: [] }), []);
  });

  test(`${backend.name}: a fenced phase change succeeds only while the lock carries its token`, async (t) => {
    const clock = fixedClock('2026-11-25T10:00:00.000Z');
    const { store: first, other: second } = await backend.open(t, { now: clock.now, localHost: 'mgr-a' });
    const m = await first.createMigration(web1);
    const stale = await first.acquireLock(
      'uuid-web1',
      { pid: 1001, host: 'mgr-b', purpose: 'watch' },
      60_000,
    );
    const moved = await first.updatePhase(m.id, 'planned', 'preparing', {}, stale.fence);
    await first.updateDetails(m.id, 'preparing', { lastError: 'noted' }, stale.fence);

    clock.ms += 61_000;
    const taker = await second.acquireLock(
      'uuid-web1',
      { pid: 2002, host: 'mgr-c', purpose: 'reconcile' },
      60_000,
    );
    const err = await t.throwsAsync(first.updatePhase(m.id, 'preparing', 'mirroring', {}, stale.fence), {
      instanceOf: LockLostError,
    });
    t.regex(err?.message ?? '', /now held by pid 2002 on mgr-c/);
    await t.throwsAsync(first.updateDetails(m.id, 'preparing', { lastError: 'late' }, stale.fence), {
      instanceOf: LockLostError,
    });
    const after = await second.getMigration(m.id);
    t.is(after?.phase, 'preparing', 'the stale holder moved nothing');
    t.is(after?.lastError, 'noted');
    t.deepEqual(
      (await second.listAudit({ migrationId: m.id })).map((e) => e.step),
      ['created', 'phase'],
      'the refused move left no audit entry',
    );

    await second.updatePhase(m.id, 'preparing', 'mirroring', {}, taker.fence);
    await t.throwsAsync(second.updatePhase(m.id, 'preparing', 'mirroring', {}, taker.fence), {
      instanceOf: PhaseConflictError,
    });
    await taker.release();
    await t.throwsAsync(
      second.updatePhase(m.id, 'mirroring', 'armed', {}, taker.fence),
      {
        instanceOf: LockLostError,
      },
      'a released lock fences too',
    );
    t.is(moved.phase, 'preparing');
    await t.notThrowsAsync(second.updatePhase(m.id, 'mirroring', 'armed'), 'unfenced writes are not refused');
  });
}

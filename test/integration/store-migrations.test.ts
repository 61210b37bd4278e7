import test from 'ava';
import Database from 'better-sqlite3';
import {
  ActiveMigrationError,
  IllegalTransitionError,
  MigrationNotFoundError,
  type NewMigration,
  openSqliteStore,
  PhaseConflictError,
} from '../../src/store/index.js';
import { sqliteFailure, tempDbPath } from './helpers/temp-store.js';

function openTemp(t: { teardown(fn: () => void): void }) {
  const path = tempDbPath(t);
  const store = openSqliteStore(path);
  t.teardown(() => store.close());
  return { path, store };
}

const web1: NewMigration = { vmName: 'web1', vmUuid: 'uuid-web1', sourceHost: 'lab-a', targetHost: 'lab-b' };

test('create, get by id and by VM, with fields as given', async (t) => {
  const { store } = openTemp(t);
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

test('one active migration per VM; a finished one does not count', async (t) => {
  const { store } = openTemp(t);
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

test('the unique partial index holds even for a writer that skips the check', async (t) => {
  const { path, store } = openTemp(t);
  await store.createMigration(web1);
  const raw = new Database(path);
  t.teardown(() => raw.close());
  const insert = raw.prepare(
    `INSERT INTO migrations (id, vm_name, vm_uuid, source_host, target_host, phase, created_at, updated_at)
     VALUES (?, 'web1', 'uuid-web1', 'a', 'b', ?, 'x', 'x')`,
  );
  t.regex(
    sqliteFailure(() => insert.run('sneaky', 'armed')),
    /^SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed/,
  );
  t.notThrows(() => insert.run('history', 'done'), 'terminal rows are history, many per VM');
});

test('optimistic phase update: the second of two processes to move a migration fails cleanly', async (t) => {
  const { path, store } = openTemp(t);
  const other = openSqliteStore(path);
  t.teardown(() => other.close());
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

test('illegal moves and unknown ids are refused', async (t) => {
  const { store } = openTemp(t);
  const m = await store.createMigration(web1);
  await t.throwsAsync(store.updatePhase(m.id, 'planned', 'done'), { instanceOf: IllegalTransitionError });
  await t.throwsAsync(store.updatePhase('nope', 'planned', 'preparing'), {
    instanceOf: MigrationNotFoundError,
  });
  t.is((await store.getMigration(m.id))?.phase, 'planned');
});

test('phase updates carry a patch and journal the move; details update under the same check', async (t) => {
  const { store } = openTemp(t);
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

test('list filters by phase, host, VM and activity', async (t) => {
  const { store } = openTemp(t);
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

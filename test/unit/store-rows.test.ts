import test from 'ava';
import { RehomeError } from '../../src/errors.js';
import { LockedError, PhaseConflictError } from '../../src/store/errors.js';
import { type MigrationRow, migrationFromRow, patchToColumns } from '../../src/store/sqlite/rows.js';
import { toIsoUtc } from '../../src/store/time.js';

const row: MigrationRow = {
  id: 'm1',
  vm_name: 'web1',
  vm_uuid: 'u1',
  source_host: 'a',
  target_host: 'b',
  phase: 'armed',
  deadline: null,
  job: '{"disks":[{"target":"vda","virtualSizeBytes":1024}]}',
  owner: 'ann@example.org',
  created_at: '2026-11-25T10:00:00.000Z',
  updated_at: '2026-11-25T10:00:00.000Z',
  last_error: null,
};

test('a row maps to a record with its job', (t) => {
  const record = migrationFromRow(row);
  t.is(record.phase, 'armed');
  t.deepEqual(record.job, { disks: [{ target: 'vda', virtualSizeBytes: 1024 }] });
});

test('a disk size written under its old name virtualSize reads as virtualSizeBytes', (t) => {
  const old = migrationFromRow({
    ...row,
    job: '{"disks":[{"target":"vda","virtualSize":2048}],"mode":"background"}',
  });
  t.deepEqual(old.job, { disks: [{ target: 'vda', virtualSizeBytes: 2048 }], mode: 'background' });
});

test('an unknown phase in the database is refused, not passed on', (t) => {
  t.throws(() => migrationFromRow({ ...row, phase: 'teleporting' }), {
    message: /unknown phase "teleporting"/,
  });
});

test('a patch sets only the fields it names', (t) => {
  t.deepEqual(patchToColumns({ lastError: 'boom' }), { last_error: 'boom' });
  t.deepEqual(patchToColumns({ job: { disks: [] } }), { job: '{"disks":[]}' });
});

test('timestamps are normalised to UTC with milliseconds, so text order is time order', (t) => {
  t.is(toIsoUtc('2026-11-25T12:00:00+02:00'), '2026-11-25T10:00:00.000Z');
  t.throws(() => toIsoUtc('next tuesday'), { instanceOf: RangeError });
});

test('LockedError names the holder and exits 7', (t) => {
  const err = new LockedError({
    vmKey: 'u1',
    pid: 1234,
    host: 'mgr-a',
    purpose: 'watch',
    since: '2026-11-25T10:00:00.000Z',
    expiresAt: '2026-11-25T10:05:00.000Z',
  });
  t.true(err instanceof RehomeError);
  t.is(err.kind, 'locked');
  t.regex(err.message, /pid 1234 on mgr-a since 2026-11-25T10:00:00.000Z \(watch\)/);
});

test('PhaseConflictError says what it found', (t) => {
  const err = new PhaseConflictError('m1', 'armed', 'cancelling');
  t.is(err.actual, 'cancelling');
  t.regex(err.message, /in phase cancelling, not armed/);
});

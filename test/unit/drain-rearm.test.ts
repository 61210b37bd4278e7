import test from 'ava';
import { drainStatus } from '../../src/drain/index.js';
import { isTransientCause, rearmDrains, rearmVerdict } from '../../src/drain/rearm.js';
import type { PrepareAndArm } from '../../src/drain/types.js';
import { openSqliteStore } from '../../src/store/index.js';
import type { DrainVmRecord, MigrationRecord, Store } from '../../src/store/types.js';
import { fixedClock } from '../helpers/fixed-clock.js';

const LOST_MIRROR =
  "Step converge failed: paused; the target's export is gone, so the copy is incomplete: back to the source";
const POLICY = { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 600_000 };

test('transient causes are told from permanent ones', (t) => {
  for (const cause of [
    LOST_MIRROR,
    'Step wait-ready failed: wait-ready: the block copy of vda (no progress) on a timed out after 300000 ms',
    'Cannot connect to root@10.0.0.2:22: connect EHOSTUNREACH',
    'the block job of vda is gone',
  ])
    t.true(isTransientCause(cause), cause);
  for (const cause of [
    'Step prepare-target refused: the target is the source host',
    'qemu-img on b exited 1: No space left on device',
    '/img/x.qcow2 already exists on b; rehome will not overwrite it',
    null,
  ])
    t.false(isTransientCause(cause), String(cause));
});

const vm: DrainVmRecord = {
  vmUuid: 'u1',
  vmName: 'web1',
  position: 0,
  targetHost: 'b',
  outcome: 'armed',
  migrationId: 'm1',
  detail: null,
  updatedAt: '2026-12-01T10:00:00.000Z',
};

function rolledBack(at: string, lastError = LOST_MIRROR): MigrationRecord {
  return { phase: 'rolled-back', updatedAt: at, lastError } as MigrationRecord;
}

test('backoff doubles, then the VM stays with its reason once the attempts are spent', (t) => {
  const first = [rolledBack('2026-12-01T10:00:00.000Z')];
  t.like(rearmVerdict(vm, first, new Date('2026-12-01T10:00:30Z'), POLICY), {
    kind: 'waiting',
    attempt: 2,
    at: new Date('2026-12-01T10:01:00Z'),
  });
  t.like(rearmVerdict(vm, first, new Date('2026-12-01T10:01:00Z'), POLICY), { kind: 'due', attempt: 2 });
  const second = [...first, rolledBack('2026-12-01T10:05:00.000Z')];
  t.like(rearmVerdict(vm, second, new Date('2026-12-01T10:06:00Z'), POLICY), {
    kind: 'waiting',
    at: new Date('2026-12-01T10:07:00Z'),
  });
  const third = [...second, rolledBack('2026-12-01T10:10:00.000Z')];
  t.like(rearmVerdict(vm, third, new Date('2026-12-02T00:00:00Z'), POLICY), {
    kind: 'permanent',
    attempts: 3,
  });
  t.like(
    rearmVerdict(
      vm,
      [rolledBack('2026-12-01T10:00:00.000Z', 'No space left on device')],
      new Date('2027-01-01'),
      POLICY,
    ),
    {
      kind: 'permanent',
    },
  );
  t.like(rearmVerdict(vm, [{ phase: 'armed' } as MigrationRecord], new Date(), POLICY), { kind: 'none' });
});

/** A draining host `src` whose drain armed web1 on b; its migration then rolled back with `lastError`. */
async function drainedAndRolledBack(store: Store, lastError: string) {
  await store.setHostState('src', 'draining', 'drain');
  const migration = await store.createMigration({
    vmName: 'web1',
    vmUuid: 'u1',
    sourceHost: 'src',
    targetHost: 'b',
  });
  const drain = await store.createDrain({
    host: 'src',
    deadline: null,
    concurrency: 1,
    bandwidthBytesPerSec: null,
    vms: [{ vmUuid: 'u1', vmName: 'web1', targetHost: 'b', outcome: 'pending' }],
  });
  await store.updateDrainVm(drain.id, 'u1', { outcome: 'armed', migrationId: migration.id });
  for (const [from, to] of [
    ['planned', 'preparing'],
    ['preparing', 'mirroring'],
    ['mirroring', 'armed'],
    ['armed', 'cutover'],
    ['cutover', 'rolling-back'],
  ] as const)
    await store.updatePhase(migration.id, from, to);
  await store.updatePhase(migration.id, 'rolling-back', 'rolled-back', { lastError });
  return drain;
}

test('a drain VM rolled back for a lost mirror is armed again after the backoff; status --host says it waits', async (t) => {
  const clock = fixedClock('2026-12-01T10:00:00Z');
  const store = openSqliteStore(':memory:', { now: clock.now });
  t.teardown(() => store.close());
  const drain = await drainedAndRolledBack(store, LOST_MIRROR);
  const calls: string[] = [];
  const prepareAndArm: PrepareAndArm = async (v, target) => {
    calls.push(`${v.name}->${target}`);
    const record = await store.createMigration({
      vmName: v.name,
      vmUuid: v.uuid,
      sourceHost: 'src',
      targetHost: target,
    });
    return { migrationId: record.id, phase: 'armed' };
  };
  const waiting = (await drainStatus(store, 'src', clock.now())).vms[0];
  t.regex(
    waiting?.waiting ?? '',
    /^waits until 2026-12-01T10:01:00.000Z to be armed again \(attempt 2 of 4\) after: .*export is gone/,
  );
  t.deepEqual(await rearmDrains(store, prepareAndArm, { now: clock.now }), [], 'not before the backoff');
  clock.ms += 61_000;
  const done = await rearmDrains(store, prepareAndArm, { now: clock.now });
  t.deepEqual(calls, ['web1->b']);
  t.like(done[0], { vm: 'web1', attempt: 2, outcome: 'armed' });
  const after = (await store.getDrain(drain.id))?.vms[0];
  t.like(after, { outcome: 'armed' });
  t.not(after?.migrationId, null);
  t.is((await drainStatus(store, 'src', clock.now())).vms[0]?.waiting, null);
});

test('a permanent cause is not retried: status --host says why the VM stays', async (t) => {
  const clock = fixedClock('2026-12-01T10:00:00Z');
  const store = openSqliteStore(':memory:', { now: clock.now });
  t.teardown(() => store.close());
  await drainedAndRolledBack(store, 'qemu-img on b exited 1: No space left on device');
  clock.ms += 86_400_000;
  let called = false;
  t.deepEqual(
    await rearmDrains(
      store,
      async () => {
        called = true;
        return { migrationId: 'x', phase: 'armed' };
      },
      { now: clock.now },
    ),
    [],
  );
  t.false(called);
  t.regex((await drainStatus(store, 'src', clock.now())).vms[0]?.waiting ?? '', /^stays: .*No space left/);
});

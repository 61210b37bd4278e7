import test from 'ava';
import { LockedError, LockLostError } from '../../src/store/index.js';
import { fixedClock } from '../helpers/fixed-clock.js';
import { storeBackends } from './helpers/store-backends.js';

for (const backend of storeBackends(test)) {
  /** Two connections to one store, sharing a clock the test moves, as two processes on host mgr-a. */
  const openPair = async (t: { teardown(fn: () => unknown): void }, pidAlive = (_pid: number) => true) => {
    const clock = fixedClock('2026-11-25T10:00:00.000Z');
    const { store: one, other: two } = await backend.open(t, {
      now: clock.now,
      localHost: 'mgr-a',
      isPidAlive: pidAlive,
    });
    return { one, two, clock };
  };

  const watcher = { pid: 1001, host: 'mgr-a', purpose: 'watch' };
  const operator = { pid: 2002, host: 'mgr-a', purpose: 'reboot' };

  test(`${backend.name}: a held lock refuses a second acquirer with the holder named; release frees it`, async (t) => {
    const { one, two } = await openPair(t);
    const lock = await one.acquireLock('uuid-web1', watcher, 60_000);
    t.is(lock.tookOverFrom, null);

    const err = await t.throwsAsync(two.acquireLock('uuid-web1', operator, 60_000), {
      instanceOf: LockedError,
    });
    t.is(err?.kind, 'locked');
    t.deepEqual(err?.holder, {
      vmKey: 'uuid-web1',
      pid: 1001,
      host: 'mgr-a',
      purpose: 'watch',
      since: '2026-11-25T10:00:00.000Z',
      expiresAt: '2026-11-25T10:01:00.000Z',
    });
    t.regex(err?.message ?? '', /locked by pid 1001 on mgr-a since 2026-11-25T10:00:00.000Z \(watch\)/);
    await t.throwsAsync(
      one.acquireLock('uuid-web1', watcher, 60_000),
      { instanceOf: LockedError },
      'not re-entrant',
    );
    await t.notThrowsAsync(two.acquireLock('uuid-db1', operator, 60_000), 'other VMs are free');

    await lock.release();
    await lock.release();
    const next = await two.acquireLock('uuid-web1', operator, 60_000);
    t.is(next.tookOverFrom, null);
    t.is((await one.getLockHolder('uuid-web1'))?.pid, 2002);
  });

  test(`${backend.name}: an expired lease is taken over and the takeover audited; refresh keeps a lease alive`, async (t) => {
    const { one, two, clock } = await openPair(t);
    const lock = await one.acquireLock('uuid-web1', watcher, 60_000);
    clock.ms += 50_000;
    await lock.refresh();
    clock.ms += 50_000;
    await t.throwsAsync(two.acquireLock('uuid-web1', operator, 60_000), { instanceOf: LockedError });

    clock.ms += 20_000;
    const taken = await two.acquireLock('uuid-web1', operator, 60_000);
    t.is(taken.tookOverFrom?.pid, 1001);
    const audit = await two.listAudit({ vm: 'uuid-web1' });
    t.is(audit.length, 1);
    t.is(audit[0]?.step, 'lock-takeover');
    t.like(audit[0]?.detail, { reason: 'expired', previous: { pid: 1001, purpose: 'watch' }, by: operator });

    await t.throwsAsync(lock.refresh(), { instanceOf: LockLostError, message: /now held by pid 2002/ });
    await lock.release();
    t.is((await one.getLockHolder('uuid-web1'))?.pid, 2002, 'the old handle must not release the new holder');
  });

  test(`${backend.name}: a dead holder on this host is taken over before its ttl; on another host it is not`, async (t) => {
    const dead = new Set([1001]);
    const { one, two } = await openPair(t, (pid) => !dead.has(pid));
    await one.acquireLock('uuid-web1', watcher, 3_600_000);
    const taken = await two.acquireLock('uuid-web1', operator, 60_000);
    t.is(taken.tookOverFrom?.pid, 1001);
    t.like((await two.listAudit({ vm: 'uuid-web1' }))[0]?.detail, { reason: 'holder-dead' });

    await one.acquireLock('uuid-mx1', { ...watcher, host: 'mgr-b' }, 3_600_000);
    const err = await t.throwsAsync(two.acquireLock('uuid-mx1', operator, 60_000), {
      instanceOf: LockedError,
    });
    t.regex(err?.message ?? '', /pid 1001 on mgr-b/);
  });

  test(`${backend.name}: a non-positive ttl is refused`, async (t) => {
    const { one } = await openPair(t);
    await t.throwsAsync(one.acquireLock('uuid-web1', watcher, 0), { instanceOf: RangeError });
  });

  test(`${backend.name}: holders are listed by key prefix, stale ones too`, async (t) => {
    const { one, two, clock } = await openPair(t);
    await one.acquireLock('host:lab-b', watcher, 15_000);
    await two.acquireLock('host:lab-a', operator, 15_000);
    await one.acquireLock('uuid-web1', watcher, 60_000);
    await one.acquireLock('hostile', watcher, 60_000);
    clock.ms += 20_000;
    t.deepEqual(
      (await two.listLockHolders('host:')).map((h) => [h.vmKey, h.pid]),
      [
        ['host:lab-a', 2002],
        ['host:lab-b', 1001],
      ],
    );
    t.deepEqual(await one.listLockHolders('nothing:'), []);
  });
}

import test from 'ava';
import { holdingLock } from '../../src/migration/services/lock.js';
import { LockLostError } from '../../src/store/errors.js';
import type { Lock } from '../../src/store/types.js';

/** A lock whose refresh does what the test says, counting calls. */
function scriptedLock(refresh: () => Promise<void>) {
  const calls = { refresh: 0, release: 0 };
  const lock: Lock = {
    vmKey: 'uuid-web1',
    owner: { pid: 1, host: 'mgr-a', purpose: 'test' },
    fence: { token: 't-1' },
    tookOverFrom: null,
    refresh: () => {
      calls.refresh++;
      return refresh();
    },
    release: async () => {
      calls.release++;
    },
  };
  return { lock, calls };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a refresh that finds the lock taken over aborts the signal with the LockLostError; confirm throws it', async (t) => {
  const lost = new LockLostError('uuid-web1');
  const { lock, calls } = scriptedLock(() => Promise.reject(lost));
  const err = await t.throwsAsync(
    holdingLock(
      lock,
      async (held) => {
        t.false(held.signal.aborted);
        await sleep(70);
        t.true(held.signal.aborted, 'the refresher (every ttl/4) saw the loss');
        t.is(held.signal.reason, lost);
        await held.confirm();
      },
      200,
    ),
  );
  t.is(err, lost);
  t.is(calls.release, 1, 'released (by token) all the same');
});

test('a refresh failing for another reason aborts only once the lease it last extended has run out', async (t) => {
  let failing = false;
  const { lock } = scriptedLock(() =>
    failing ? Promise.reject(new Error('SQLITE_BUSY')) : Promise.resolve(),
  );
  await holdingLock(
    lock,
    async (held) => {
      await held.confirm();
      failing = true;
      await sleep(60);
      t.false(held.signal.aborted, 'still within the lease: a transient failure is not a loss');
      await t.notThrowsAsync(held.confirm());
      await sleep(200);
      t.true(held.signal.aborted, 'past the lease: the lock may be someone else’s');
      t.true(held.signal.reason instanceof LockLostError);
      t.regex(String((held.signal.reason as Error).cause), /SQLITE_BUSY/);
    },
    200,
  );
});

test('a healthy lock: confirm extends the lease and the work runs to its end', async (t) => {
  const { lock, calls } = scriptedLock(() => Promise.resolve());
  const value = await holdingLock(lock, async (held) => {
    await held.confirm();
    await held.confirm();
    return held.fence.token;
  });
  t.is(value, 't-1');
  t.is(calls.refresh, 2);
  t.is(calls.release, 1);
});

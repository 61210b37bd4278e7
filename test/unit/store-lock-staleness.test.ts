import test from 'ava';
import { judgeHolder } from '../../src/store/lock-staleness.js';
import type { LockHolder } from '../../src/store/types.js';

const holder: LockHolder = {
  vmKey: 'vm-1',
  pid: 4242,
  host: 'mgr-a',
  purpose: 'migrate',
  since: '2026-11-25T10:00:00.000Z',
  expiresAt: '2026-11-25T10:05:00.000Z',
};
const before = new Date('2026-11-25T10:01:00.000Z');
const after = new Date('2026-11-25T10:05:00.001Z');
const alive = () => true;
const dead = () => false;

test('a live holder within its ttl is not stale', (t) => {
  t.deepEqual(judgeHolder(holder, { now: before, localHost: 'mgr-a', isPidAlive: alive }), { stale: false });
});

test('an expired lease is stale, whoever holds it', (t) => {
  t.deepEqual(judgeHolder(holder, { now: after, localHost: 'mgr-b', isPidAlive: alive }), {
    stale: true,
    reason: 'expired',
  });
});

test('a dead holder on this host is stale at once', (t) => {
  const seen: number[] = [];
  const verdict = judgeHolder(holder, {
    now: before,
    localHost: 'mgr-a',
    isPidAlive: (pid) => {
      seen.push(pid);
      return false;
    },
  });
  t.deepEqual(verdict, { stale: true, reason: 'holder-dead' });
  t.deepEqual(seen, [4242]);
});

test('a pid on another host is never judged from here', (t) => {
  t.deepEqual(judgeHolder(holder, { now: before, localHost: 'mgr-b', isPidAlive: dead }), { stale: false });
});

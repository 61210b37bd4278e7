/** Pure parts of `rehome migrate` and `rehome drain`: --bandwidth, deadlines, the target when --to is absent. */
import test from 'ava';
import { RehomeError } from '../../src/errors.js';
import { targetFor } from '../../src/inventory/choose-target.js';
import { withHostStates } from '../../src/inventory/fleet-facts.js';
import type { PlacementInput } from '../../src/inventory/placement-facts.js';
import { parseBandwidth } from '../../src/migration/services/bandwidth.js';
import { resolveDeadline } from '../../src/migration/services/deadline.js';
import { defaultDeadline } from '../../src/notify/deadline.js';
import { GiB, host, vm } from './placement-fixtures.js';

const KiB = 1024;
const MiB = 1024 * KiB;

test('--bandwidth: a bare number is MiB/s; K, M, G are KiB, MiB, GiB per second', (t) => {
  t.is(parseBandwidth('16'), 16 * MiB);
  t.is(parseBandwidth('16M'), 16 * MiB);
  t.is(parseBandwidth('50m'), 50 * MiB);
  t.is(parseBandwidth('512K'), 512 * KiB);
  t.is(parseBandwidth('1G'), 1024 * MiB);
  t.is(parseBandwidth('1.5G'), 1536 * MiB);
  t.is(parseBandwidth(' 50MiB/s '), 50 * MiB);
  t.is(parseBandwidth('100MB'), 100 * MiB);
  t.is(parseBandwidth('0.5'), 512 * KiB);
});

test('--bandwidth: a lowercase b is bits (decimal, as links are sold), never bytes', (t) => {
  t.is(parseBandwidth('100Mb'), 12_500_000);
  t.is(parseBandwidth('100mb'), 12_500_000);
  t.is(parseBandwidth('100Mbit'), 12_500_000);
  t.is(parseBandwidth('100Mbit/s'), 12_500_000);
  t.is(parseBandwidth('100Mbps'), 12_500_000);
  t.is(parseBandwidth('1Gbit'), 125_000_000);
  t.is(parseBandwidth('800kb'), 100_000);
  t.true(parseBandwidth('100Mb') * 8 < parseBandwidth('100MB'), 'megabits are an eighth of the MiB');
});

test('--bandwidth: nonsense, zero and unknown units are usage errors', (t) => {
  for (const bad of ['', 'fast', '0', '0M', '-5', '5T', '5 M', 'M', '1e3', '100b', '100Mib', '5bit']) {
    const error = t.throws(() => parseBandwidth(bad), { instanceOf: RehomeError }, bad);
    t.is(error?.kind, 'invalid-input');
  }
});

const now = new Date('2026-12-01T10:00:00.000Z');

test('no --deadline: the operator limit from now, the same instant notices fall back to', (t) => {
  const resolved = resolveDeadline(undefined, now, 14);
  t.deepEqual(resolved, { deadline: '2026-12-15T10:00:00.000Z', source: 'operator-limit' });
  t.is(defaultDeadline(now, 14).toISOString(), resolved.deadline);
  t.is(resolveDeadline(undefined, now).deadline, '2026-12-31T10:00:00.000Z', '30 days when unset');
});

test('a --deadline is checked against notify.maxDeadlineDays, not a fixed 30 days', (t) => {
  t.deepEqual(resolveDeadline('+20d', now, 30), { deadline: '2026-12-21T10:00:00.000Z', source: 'given' });
  const over = t.throws(() => resolveDeadline('+20d', now, 14), { instanceOf: RehomeError });
  t.regex(over?.message ?? '', /after the operator's limit, 2026-12-15T10:00:00.000Z/);
  t.deepEqual(resolveDeadline('+40d', now, 60).source, 'given');
  t.throws(() => resolveDeadline('2026-12-05T10:00', now, 30), { message: /no time zone/ });
});

function fleet(): PlacementInput {
  return {
    hosts: [host('src'), host('b', { memoryKiB: 8 * GiB }), host('c', { memoryKiB: 32 * GiB })],
    vms: [vm('web', { memoryKiB: 4 * GiB })],
    unreachable: [],
  };
}

const web = { name: 'web', uuid: 'uuid-web', source: 'src' };

test('without --to: placement picks a host that is neither the source nor cordoned, and says why', (t) => {
  const open = targetFor(web, fleet());
  t.is(open.target, 'c', 'spread: the host left with the most room');
  t.regex(open.reason, /^c: passes every filter/);
  const cordoned = withHostStates(fleet(), [
    { host: 'c', state: 'cordoned', reason: null, since: '', updatedAt: '' },
  ]);
  t.is(targetFor(web, cordoned).target, 'b');
});

test('without --to: a VM that fits nowhere is `blocked` (exit 10), with each host’s reason', (t) => {
  const facts = withHostStates(fleet(), [
    { host: 'c', state: 'cordoned', reason: null, since: '', updatedAt: '' },
    { host: 'b', state: 'draining', reason: null, since: '', updatedAt: '' },
  ]);
  const error = t.throws(() => targetFor(web, facts), { instanceOf: RehomeError });
  t.is(error?.kind, 'blocked');
  t.regex(error?.message ?? '', /web fits on no host: no target among 3 hosts/);
  t.regex(error?.message ?? '', /\n {2}src: not-source: this is the host the VM runs on/);
  t.regex(error?.message ?? '', /\n {2}b: host-state: host is draining/);
  t.regex(error?.message ?? '', /\n {2}c: host-state: host is cordoned/);
});

test('without --to: an unreadable source, or a VM missing from the inventory, is said so', (t) => {
  const unreadable = { ...fleet(), unreachable: ['src'] };
  t.is(t.throws(() => targetFor(web, unreadable))?.constructor, RehomeError);
  t.throws(() => targetFor({ ...web, uuid: 'uuid-other' }, fleet()), { message: /not in the inventory/ });
});

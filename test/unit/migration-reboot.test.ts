import test from 'ava';
import { judgePause, RebootDebouncer } from '../../src/migration/services/reboot-trigger.js';

test('three reboot events within 75 ms start one cutover', (t) => {
  const debouncer = new RebootDebouncer(2000);
  const accepted = [1000, 1030, 1075].map((at) => debouncer.accept('vm', at));
  t.deepEqual(accepted, [true, false, false]);
});

test('a reboot well after the last burst counts again, and VMs do not share a window', (t) => {
  const debouncer = new RebootDebouncer(2000);
  t.true(debouncer.accept('a', 0));
  t.true(debouncer.accept('b', 10));
  t.false(debouncer.accept('a', 50));
  t.true(debouncer.accept('a', 5000));
});

test('a pause within the bound cuts over; a later one boots in place', (t) => {
  t.deepEqual(judgePause(1000, 1021, 1000), { kind: 'cutover', latencyMs: 21 });
  t.deepEqual(judgePause(1000, 2000, 1000), { kind: 'cutover', latencyMs: 1000 });
  t.deepEqual(judgePause(1000, 2001, 1000), { kind: 'boot-in-place', latencyMs: 1001 });
});

import test from 'ava';
import { fixedClock } from '../helpers/fixed-clock.js';
import { storeBackends } from './helpers/store-backends.js';

/** The store contract for link tokens, host states and drains, on SQLite and on PostgreSQL. */
for (const backend of storeBackends(test)) {
  const open = (t: { teardown(fn: () => unknown): void }) =>
    backend.open(t, { now: fixedClock('2026-11-25T10:00:00.000Z', { tickMs: 1000 }).now });

  test(`${backend.name}: a link token is used once, even by two processes at the same moment`, async (t) => {
    const { store, other } = await open(t);
    const uses = await Promise.all([store.markTokenUsed('nonce-1'), other.markTokenUsed('nonce-1')]);
    t.deepEqual(uses.sort(), [false, true]);
    t.false(await store.markTokenUsed('nonce-1'));
    t.true(await other.markTokenUsed('nonce-2'));
  });

  test(`${backend.name}: host states: cordon, drain keeps the first since, active removes; no-ops write nothing`, async (t) => {
    const { store, other } = await open(t);
    const changes = await Promise.all([
      store.setHostState('lab-a', 'cordoned', 'disk swap'),
      other.setHostState('lab-a', 'cordoned', 'disk swap'),
    ]);
    t.deepEqual(changes.map((c) => c.changed).sort(), [false, true], 'two cordons at once: one change');
    const cordoned = await store.getHostState('lab-a');
    t.like(cordoned, { host: 'lab-a', state: 'cordoned', reason: 'disk swap' });

    t.like(await other.setHostState('lab-a', 'draining', 'retire'), {
      before: 'cordoned',
      after: 'draining',
      changed: true,
    });
    const draining = await store.getHostState('lab-a');
    t.is(draining?.since, cordoned?.since, 'since is when the host left the active state');
    t.is(draining?.reason, 'retire');
    await store.setHostState('lab-b', 'cordoned');
    t.deepEqual(
      (await other.listHostStates()).map((h) => [h.host, h.state]),
      [
        ['lab-a', 'draining'],
        ['lab-b', 'cordoned'],
      ],
    );
    t.like(await store.setHostState('lab-a', 'active'), {
      before: 'draining',
      after: 'active',
      changed: true,
    });
    t.like(await store.setHostState('lab-a', 'active'), { changed: false });
    t.is(await other.getHostState('lab-a'), undefined);
  });

  test(`${backend.name}: drains keep their VMs in plan order and take patches`, async (t) => {
    const { store, other } = await open(t);
    const drain = await store.createDrain({
      host: 'lab-a',
      deadline: '2026-12-01T12:00:00+01:00',
      concurrency: 2,
      bandwidthBytesPerSec: 5_000_000_000,
      vms: [
        { vmUuid: 'u-web1', vmName: 'web1', targetHost: 'lab-b', outcome: 'pending' },
        { vmUuid: 'u-db1', vmName: 'db1', targetHost: null, outcome: 'blocked', detail: 'no room' },
        { vmUuid: 'u-mx1', vmName: 'mx1', targetHost: 'lab-c', outcome: 'pending' },
      ],
    });
    t.like(drain, {
      host: 'lab-a',
      deadline: '2026-12-01T11:00:00.000Z',
      concurrency: 2,
      bandwidthBytesPerSec: 5_000_000_000,
      status: 'running',
      finishedAt: null,
    });
    t.deepEqual(
      drain.vms.map((vm) => [vm.position, vm.vmName, vm.targetHost, vm.outcome, vm.detail]),
      [
        [0, 'web1', 'lab-b', 'pending', null],
        [1, 'db1', null, 'blocked', 'no room'],
        [2, 'mx1', 'lab-c', 'pending', null],
      ],
    );
    t.deepEqual(await other.getDrain(drain.id), drain);
    t.is(await other.getDrain('nope'), undefined);

    const vm = await other.updateDrainVm(drain.id, 'u-web1', { outcome: 'armed', migrationId: 'm-1' });
    t.like(vm, { vmName: 'web1', outcome: 'armed', migrationId: 'm-1', position: 0 });
    await t.throwsAsync(other.updateDrainVm(drain.id, 'u-nope', { outcome: 'armed' }));
    const finished = await other.updateDrain(drain.id, {
      status: 'partial',
      finishedAt: '2026-11-25T11:00:00Z',
      lastError: 'db1 blocked',
    });
    t.like(finished, { status: 'partial', finishedAt: '2026-11-25T11:00:00.000Z', lastError: 'db1 blocked' });
    await t.throwsAsync(other.updateDrain('nope', { status: 'failed' }));

    const second = await other.createDrain({ host: 'lab-b', concurrency: 1, vms: [] });
    const third = await other.createDrain({ host: 'lab-a', concurrency: 1, vms: [] });
    t.deepEqual(
      (await store.listDrains()).map((d) => d.id),
      [drain.id, second.id, third.id],
    );
    t.deepEqual(
      (await store.listDrains({ host: 'lab-a' })).map((d) => d.id),
      [drain.id, third.id],
    );
    t.deepEqual(second.vms, []);
  });
}

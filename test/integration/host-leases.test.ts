import test from 'ava';
import { HostLeases, listHostLeases } from '../../src/migration/services/host-leases.js';
import type { Store } from '../../src/store/types.js';
import { storeBackends } from './helpers/store-backends.js';

/** Watch replicas sharing six hosts through leases, on both backends. Replicas run on different machines. */
const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const TTL_MS = 800;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function replica(store: Store, machine: string, pid: number): HostLeases {
  return new HostLeases(
    store,
    { pid, host: machine, purpose: 'watch' },
    { localHost: `test-${machine}`, isPidAlive: () => true, now: () => new Date() },
    TTL_MS,
  );
}

for (const backend of storeBackends(test)) {
  test(`${backend.name}: two replicas split the hosts; a stopped one loses them all within a lease`, async (t) => {
    const { store, other } = await backend.open(t);
    const a = replica(store, 'mgr-a', 1001);
    const b = replica(other, 'mgr-b', 2002);

    t.deepEqual((await a.tick(HOSTS)).gained.sort(), HOSTS, 'alone, a replica holds every host');
    t.deepEqual((await b.tick(HOSTS)).gained, [], 'held hosts are not taken');
    t.is((await a.tick(HOSTS)).lost.length, 3, 'a second replica halves the share: the first one sheds');
    t.is((await b.tick(HOSTS)).gained.length, 3);
    t.deepEqual([...a.hosts(), ...b.hosts()].sort(), HOSTS);
    t.false(
      a.hosts().some((host) => b.holds(host)),
      'no host is held twice',
    );
    t.deepEqual(
      (await listHostLeases(store)).map((lease) => [lease.host, lease.machine]).sort(),
      [...a.hosts().map((h) => [h, 'mgr-a']), ...b.hosts().map((h) => [h, 'mgr-b'])].sort(),
    );

    // a stops renewing (SIGSTOP, a partition): after one lease, b takes everything.
    const aHeld = a.hosts();
    await sleep(TTL_MS + 100);
    t.false(a.holds(aHeld[0] as string), 'past its lease a replica no longer counts a host as its own');
    t.deepEqual((await b.tick(HOSTS)).gained.sort(), aHeld.sort());
    t.deepEqual(b.hosts(), HOSTS);

    // a resumes: before acting on an event it confirms, and it lost every host.
    t.false(await a.confirm(aHeld[0] as string));
    const back = await a.tick(HOSTS);
    t.deepEqual(a.hosts(), [], 'every host is live with b');
    t.deepEqual(back.lost.sort(), aHeld.slice(1).sort(), 'the renewals find the other hosts lost too');
    t.is((await b.tick(HOSTS)).lost.length, 3, 'b sheds to the returning replica');
    t.is((await a.tick(HOSTS)).gained.length, 3);

    await b.releaseAll();
    t.deepEqual((await a.tick(HOSTS)).gained.length, 3, 'a clean stop hands the hosts over at the next tick');
    t.deepEqual(a.hosts(), HOSTS);
    await a.releaseAll();
    t.deepEqual(await listHostLeases(store), []);
  });
}

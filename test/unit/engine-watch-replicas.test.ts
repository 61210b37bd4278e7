import test from 'ava';
import '../fake/crash.js';
import { Lab } from '../fake/engine-harness.js';
import { assertMoved } from '../fake/invariants.js';
import { Watcher } from '../fake/src-imports.js';

/** Two `watch` replicas on one store share the fleet (src, dst, spare) through host leases. */
const LEASE_MS = 300;

async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Every host held, each by one replica. */
function shared(...replicas: { watcher: Watcher }[]): boolean {
  const held = replicas.flatMap((r) => r.watcher.heldHosts()).sort();
  return held.join() === 'dst,spare,src';
}

function replica(lab: Lab, label: string) {
  const process = lab.process(label);
  const controller = new AbortController();
  const watcher = new Watcher(process.rt, (event) => process.events.push(event), {
    refreshMs: 5,
    reconcileMs: 60_000,
    hostLeaseTtlMs: LEASE_MS,
  });
  const running = watcher.run(controller.signal);
  return {
    process,
    watcher,
    listensToSrc: () => watcher.heldHosts().includes('src'),
    stop: () => {
      controller.abort();
      return running;
    },
  };
}

test('two replicas: they share the hosts, only the holder of src listens to it, a reboot moves the VM once', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  const a = replica(lab, 'watch-a');
  const b = replica(lab, 'watch-b');
  await until(() => shared(a, b) && a.watcher.heldHosts().length > 0 && b.watcher.heldHosts().length > 0);
  const holder = a.listensToSrc() ? a : b;
  const idle = holder === a ? b : a;
  await until(() => holder.process.events.some((e) => e.message === 'listening to src'));
  t.false(idle.process.events.some((e) => e.message === 'listening to src'));

  await lab.fake.guestReboots('src', 'vm1', { events: 2, spacingMs: 5 });
  await until(async () => (await lab.migration()).phase === 'done');
  const [first, second] = await Promise.all([holder.stop(), idle.stop()]);
  t.is(first.cutovers, 1);
  t.is(second.cutovers, 0);
  const audit = await lab.store.listAudit({ migrationId: (await lab.migration()).id });
  t.is(audit.filter((e) => e.step === 'start-target' && e.outcome === 'ok').length, 1);
  assertMoved(t, lab, await lab.migration());
});

test('the replica holding src is killed: the other claims src within a lease and moves the VM at its reboot', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  const a = replica(lab, 'watch-a');
  const b = replica(lab, 'watch-b');
  await until(() => shared(a, b) && a.watcher.heldHosts().length > 0 && b.watcher.heldHosts().length > 0);
  const doomed = a.listensToSrc() ? a : b;
  const survivor = doomed === a ? b : a;
  doomed.process.session.crash();
  const killedAt = Date.now();
  await until(() => survivor.process.events.some((e) => e.message === 'listening to src'));
  t.true(Date.now() - killedAt < LEASE_MS * 2, `src claimed ${Date.now() - killedAt} ms after the kill`);
  t.deepEqual(survivor.watcher.heldHosts(), ['dst', 'spare', 'src']);

  await lab.fake.guestReboots('src', 'vm1', { events: 1 });
  await until(async () => (await lab.migration()).phase === 'done');
  t.is((await survivor.stop()).cutovers, 1);
  assertMoved(t, lab, await lab.migration());
  t.true(
    (await lab.store.listAudit({ vm: 'host:src' })).some((e) => e.step === 'lock-takeover'),
    'the takeover of the host lease is audited',
  );
});

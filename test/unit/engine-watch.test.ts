import test from 'ava';
import { Lab } from '../fake/engine-harness.js';
import { assertArmed, assertMoved, assertNeverTwoCopies, assertRolledBack } from '../fake/invariants.js';
import { LOCK_TTL_MS, rebootNow, reconcile, Watcher } from '../fake/src-imports.js';

/** Polls the store (the watcher works in the background) until `done` holds; the test's own timeout bounds it. */
async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function watching(lab: Lab) {
  const process = lab.process('watch');
  const controller = new AbortController();
  const watcher = new Watcher(process.rt, (event) => process.events.push(event), {
    refreshMs: 5,
    reconcileMs: 60_000,
  });
  const running = watcher.run(controller.signal);
  await until(async () =>
    process.events.some((e) => e.step === 'subscribe' && e.message === 'listening to src'),
  );
  return {
    process,
    stop: async () => {
      controller.abort();
      return running;
    },
  };
}

for (const burst of [
  { events: 1, spacingMs: 0 },
  { events: 3, spacingMs: 25 },
  { events: 3, spacingMs: 0 },
  { events: 5, spacingMs: 10 },
]) {
  test(`${burst.events} reboot events ${burst.spacingMs} ms apart: one cutover`, async (t) => {
    const lab = new Lab(t);
    await lab.arm();
    const watch = await watching(lab);
    await lab.fake.guestReboots('src', 'vm1', burst);
    await until(async () => (await lab.migration()).phase === 'done');
    const summary = await watch.stop();
    t.is(summary.cutovers, 1);
    const audit = await lab.store.listAudit({ migrationId: (await lab.migration()).id });
    const judged = audit.filter((entry) => entry.step === 'pause' && 'verdict' in entry.detail);
    t.is(judged.length, 1, 'more than one pause was judged');
    t.is(audit.filter((entry) => entry.step === 'start-target' && entry.outcome === 'ok').length, 1);
    assertMoved(t, lab, await lab.migration());
  });
}

test('a reboot event of a VM that is not armed is left alone', async (t) => {
  const lab = new Lab(t);
  lab.fake.addGuest('src', {
    ...lab.guest,
    name: 'other',
    uuid: '0c1d2e3f-0000-4000-8000-000000000002',
    disks: [],
  });
  await lab.arm();
  const watch = await watching(lab);
  await lab.fake.guestReboots('src', 'other', { events: 3, spacingMs: 5 });
  await new Promise((resolve) => setTimeout(resolve, 30));
  const summary = await watch.stop();
  t.is(summary.cutovers, 0);
  t.is(lab.fake.host('src').domainByName('other')?.state, 'running');
  assertArmed(t, lab, await lab.migration());
});

test('a reboot event arriving after the cutover (from the old source) changes nothing', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  const watch = await watching(lab);
  await lab.fake.guestReboots('src', 'vm1', { events: 1 });
  await until(async () => (await lab.migration()).phase === 'done');
  // the target's guest reboots: the watcher listens to sources of armed VMs only
  await lab.fake.guestReboots('dst', 'vm1', { events: 3, spacingMs: 5 });
  const summary = await watch.stop();
  t.is(summary.cutovers, 1);
  assertMoved(t, lab, await lab.migration());
});

test('a reboot while another live process holds the VM: the watcher does not pause it', async (t) => {
  const lab = new Lab(t);
  const record = await lab.arm();
  // held by a live process on another manager host: only its ttl would free it
  const lock = await lab.store.acquireLock(
    record.vmUuid,
    { pid: 1, host: 'other-manager', purpose: 'cancel vm1' },
    LOCK_TTL_MS,
  );
  const watch = await watching(lab);
  await lab.fake.guestReboots('src', 'vm1', { events: 1 });
  await until(async () =>
    watch.process.events.some((e) => e.step === 'reboot' && /leaving it alone/.test(e.message ?? '')),
  );
  await watch.stop();
  await lock.release();
  assertArmed(t, lab, await lab.migration());
});

const vanishedMirrors = [
  { title: 'a mirror job that vanishes while armed', disks: 1, vanished: 'vda', kept: [] },
  { title: 'one of two mirror jobs vanishes while armed', disks: 2, vanished: 'vdb', kept: ['vda'] },
];

for (const { title, disks, vanished, kept } of vanishedMirrors) {
  test(`${title}: reconcile mirrors that disk again, keeps the intact jobs, and re-arms`, async (t) => {
    const lab = new Lab(t, { disks });
    await lab.arm();
    const jobs = () => lab.fake.host('src').domainByUuid(lab.guest.uuid)?.jobs;
    const intact = kept.map((disk) => jobs()?.get(disk));
    lab.fake.vanishJob('src', 'vm1', vanished);
    const process = lab.process('reconcile');
    const entries = await reconcile(process.rt, () => {});
    t.deepEqual(
      entries.map((entry) => entry.action),
      ['remirror'],
    );
    assertArmed(t, lab, await lab.migration());
    t.deepEqual(
      kept.map((disk) => jobs()?.get(disk)),
      intact,
      'an intact job was restarted',
    );
    assertNeverTwoCopies(t, lab);
  });
}

test('a mirror job that vanishes while armed, then a reboot: the cutover rolls back, the guest stays on the source', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  lab.fake.vanishJob('src', 'vm1', 'vda');
  const process = lab.process('reboot');
  const result = await rebootNow(process.rt, { vm: 'vm1' }, () => {});
  t.is(result.outcome, 'rolled-back');
  const record = await lab.migration();
  t.regex(record.lastError ?? '', /block job of vda is gone/);
  assertRolledBack(t, lab, record);
});

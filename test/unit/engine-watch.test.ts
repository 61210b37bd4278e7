import test from 'ava';
import { Lab } from '../fake/engine-harness.js';
import { assertArmed, assertMoved, assertNeverTwoCopies, assertRolledBack } from '../fake/invariants.js';
import {
  LOCK_TTL_MS,
  rebootNow,
  reconcile,
  type WatchEvent,
  Watcher,
  watchEventFromProgress,
} from '../fake/src-imports.js';

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

test('the target of an armed VM is connected before its reboot, and said so once', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  const watch = await watching(lab);
  await until(async () =>
    watch.process.events.some((e) => e.step === 'connect' && /^connected to dst\b/.test(e.message ?? '')),
  );
  t.is(lab.fake.openConnections('dst', 'watch'), 1, 'no connection to the target before the reboot');
  await lab.fake.guestReboots('src', 'vm1', { events: 1 });
  await until(async () => (await lab.migration()).phase === 'done');
  await watch.stop();
  t.is(watch.process.events.filter((e) => e.step === 'connect').length, 1, 'said more than once');
  assertMoved(t, lab, await lab.migration());
});

test('a target that cannot be reached ahead of the reboot is said once; the cutover connects when it comes back', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  lab.fake.setReachable('dst', false);
  const watch = await watching(lab);
  await until(async () =>
    watch.process.events.some(
      (e) => e.step === 'connect' && /^cannot connect to dst\b/.test(e.message ?? ''),
    ),
  );
  // several refreshes (5 ms apart) try again; each failure after the first is not said again
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(watch.process.events.filter((e) => e.step === 'connect').length, 1);
  lab.fake.setReachable('dst', true);
  await lab.fake.guestReboots('src', 'vm1', { events: 1 });
  await until(async () => (await lab.migration()).phase === 'done');
  await watch.stop();
  assertMoved(t, lab, await lab.migration());
});

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

test('reboot now with the target unreachable: the guest is not asked to reboot, and stays armed on the source', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  lab.fake.setReachable('dst', false);
  const process = lab.process('reboot');
  await t.throwsAsync(() => rebootNow(process.rt, { vm: 'vm1' }, (event) => process.events.push(event)), {
    message: /cannot reach dst/,
  });
  t.deepEqual(
    process.events.filter((event) => event.step === 'reboot'),
    [],
    'the guest was asked to reboot',
  );
  t.is(lab.fake.host('src').domainByName('vm1')?.state, 'running');
  assertArmed(t, lab, await lab.migration());
});

test('watch events: started, connected, reboot caught, paused, converged, target started, done, in that order', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  const proc = lab.process('watch');
  const events: WatchEvent[] = [];
  const controller = new AbortController();
  const watcher = new Watcher(
    proc.rt,
    (event) => {
      proc.events.push(event);
      const derived = watchEventFromProgress(event);
      if (derived) events.push(derived);
    },
    { refreshMs: 5, reconcileMs: 60_000, onEvent: (event) => events.push(event) },
  );
  const running = watcher.run(controller.signal);
  await until(async () => events.some((e) => e.event === 'connected'));
  t.deepEqual(events.slice(0, 2), [
    { event: 'started', hosts: ['src'], armed: 1 },
    { event: 'connected', host: 'src' },
  ]);
  t.deepEqual(watcher.telemetry.snapshot().hosts, [{ host: 'src', connected: true }]);
  await lab.fake.guestReboots('src', 'vm1', { events: 1, spacingMs: 0 });
  await until(async () => events.some((e) => e.event === 'done'));
  controller.abort();
  await running;
  const names = events.map((e) => e.event);
  t.deepEqual(
    names.filter((name) => ['reboot-caught', 'paused', 'converged', 'target-started', 'done'].includes(name)),
    ['reboot-caught', 'paused', 'converged', 'target-started', 'done'],
  );
  const paused = events.find((e) => e.event === 'paused');
  t.like(paused, { vm: 'vm1', verdict: 'cutover' });
  const done = events.find((e) => e.event === 'done');
  t.true(done?.event === 'done' && typeof done.durationMs === 'number' && done.durationMs >= 0);
  t.false(names.includes('failed'));
});

test('a mirror job that fails while armed is mirrored again at once, on the block-job event', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  const watch = await watching(lab);
  // watch reconciles at its start, then not for a minute: only the block-job event can bring the mirror back.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const jobs = () => lab.fake.host('src').domainByUuid(lab.guest.uuid)?.jobs;
  lab.fake.failJob('src', 'vm1', 'vda');
  t.false(jobs()?.has('vda'));
  const failedAt = Date.now();
  await until(async () => Boolean(jobs()?.has('vda')) && (await lab.migration()).phase === 'armed');
  const tookMs = Date.now() - failedAt;
  await watch.stop();
  t.true(tookMs < 5_000, `re-mirrored after ${tookMs} ms`);
  t.true(
    watch.process.events.some(
      (e) => e.step === 'mirror' && /block job of vda failed: re-mirroring now/.test(e.message ?? ''),
    ),
  );
  const audit = await lab.store.listAudit({ migrationId: (await lab.migration()).id });
  t.true(audit.some((entry) => entry.step === 'reconcile' && entry.detail.action === 'remirror'));
  assertArmed(t, lab, await lab.migration());
  assertNeverTwoCopies(t, lab);
});

test('a block job that completes (as when rehome itself ends it) starts no re-mirror', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  const watch = await watching(lab);
  await new Promise((resolve) => setTimeout(resolve, 50));
  lab.fake.failJob('src', 'vm1', 'vda', 0);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await watch.stop();
  t.false(watch.process.events.some((e) => e.step === 'mirror'));
  const audit = await lab.store.listAudit({ migrationId: (await lab.migration()).id });
  t.false(audit.some((entry) => entry.step === 'reconcile' && entry.detail.action === 'remirror'));
});

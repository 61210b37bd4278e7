import test from 'ava';
import type { RehomeError } from '../../src/errors.js';
import { Lab } from '../fake/engine-harness.js';
import { assertNeverTwoCopies } from '../fake/invariants.js';
import { migrate, reconcile } from '../fake/src-imports.js';

test('an initial copy whose progress stands still fails with a timeout naming the step, the host and the wait', async (t) => {
  const lab = new Lab(t);
  lab.fake.mirrorBytesPerPoll = 0; // the export accepts the job, then nothing moves (a target that hangs)
  const process = lab.process('migrate');
  process.rt.settings.mirrorStallTimeoutMs = 400;
  const started = Date.now();
  const error = await t.throwsAsync(migrate(process.rt, { vm: 'vm1', to: 'dst' }, () => {}));
  t.true(Date.now() - started < 10_000);
  const record = await lab.migration();
  t.is(record.phase, 'rolled-back');
  t.regex(record.lastError ?? '', /wait-ready: the block copy of vda .* on src timed out after 400 ms/);
  t.regex(error?.message ?? '', /timed out/);
  let cause: unknown = error;
  while (cause && (cause as RehomeError).subject?.code !== 'timeout') cause = (cause as Error).cause;
  t.like((cause as RehomeError | undefined)?.subject, { code: 'timeout', host: 'src', step: 'wait-ready' });
  assertNeverTwoCopies(t, lab);
});

test('a copy that moves, however slowly, is not timed out', async (t) => {
  const lab = new Lab(t);
  lab.fake.mirrorBytesPerPoll = 8 << 20; // 64 MiB in 8 readings of 200 ms: longer than the stall bound
  const process = lab.process('migrate');
  process.rt.settings.mirrorStallTimeoutMs = 400;
  await migrate(process.rt, { vm: 'vm1', to: 'dst' }, () => {});
  t.is((await lab.migration()).phase, 'armed');
});

test('a copy over every block once that the guest keeps dirty is said to be outpaced, once, and is armed when it catches up', async (t) => {
  const lab = new Lab(t);
  lab.fake.mirrorBytesPerPoll = 8 << 20; // 8 MiB a reading of 200 ms
  const process = lab.process('migrate');
  process.rt.settings.catchUpNoteMs = 300;
  // The guest dirties 1 MiB every 20 ms, 10 MiB a reading: more than the copy sends.
  const writer = setInterval(() => lab.fake.guestWrites('src', 'vm1', 'vda', 'busy'), 20);
  t.teardown(() => clearInterval(writer));
  const notes: string[] = [];
  const running = migrate(process.rt, { vm: 'vm1', to: 'dst' }, (event) => {
    if (event.step !== 'wait-ready' || event.status !== 'info' || !event.message) return;
    if (/guest writes as fast as the copy/.test(event.message)) {
      notes.push(event.message);
      clearInterval(writer); // the guest calms down
    }
  });
  await running;
  t.is(notes.length, 1, 'said once');
  t.regex(
    notes[0] ?? '',
    /^every block was copied once \d+ s ago, but the guest writes as fast as the copy goes/,
  );
  const record = await lab.migration();
  t.is(record.phase, 'armed');
  const audit = await lab.store.listAudit({ migrationId: record.id });
  t.true(audit.some((e) => e.step === 'wait-ready' && e.outcome === 'info' && 'outpacedBy' in e.detail));
});

test('a target that goes away during the initial copy is seen at its next check: rolled back, the source untouched', async (t) => {
  const lab = new Lab(t);
  lab.fake.mirrorBytesPerPoll = 1 << 20; // 64 MiB at 1 MiB a reading: a copy of many seconds
  const process = lab.process('migrate');
  process.rt.settings.targetCheckMs = 300;
  const events: string[] = [];
  const running = migrate(process.rt, { vm: 'vm1', to: 'dst' }, (event) => {
    if (event.step === 'wait-ready' && event.status === 'start') {
      events.push('copying');
      setTimeout(() => {
        lab.fake.host('dst').reachable = false;
      }, 100);
    }
  });
  const started = Date.now();
  const error = await t.throwsAsync(running);
  t.deepEqual(events, ['copying']);
  t.true(Date.now() - started < 5_000);
  t.regex(error?.message ?? '', /rolled back|failed/);
  // Why it failed is journaled with its step; the undo cannot reach the target, so the migration waits for it.
  const record = await lab.migration();
  const audit = await lab.store.listAudit({ migrationId: record.id });
  t.true(
    audit.some((e) => e.step === 'wait-ready' && e.outcome === 'error' && /dst/.test(String(e.detail.error))),
    JSON.stringify(audit.filter((e) => e.outcome === 'error').map((e) => [e.step, e.detail.error])),
  );
  t.true(['rolled-back', 'failed'].includes(record.phase), record.phase);
  // An undo that cannot finish keeps the rollback's cause first: status says what went wrong, then what is left.
  if (record.phase === 'failed')
    t.regex(record.lastError ?? '', /^Step wait-ready failed: .*dst.*; then undo of \S+ failed: /);
  // The source runs as before, without a mirror job.
  const source = lab.fake.host('src').domainByUuid(lab.guest.uuid);
  t.is(source?.state, 'running');
  t.is(source?.jobs.size, 0);
  assertNeverTwoCopies(t, lab);
  // The target comes back: reconcile finishes the rollback, and nothing of the migration is left there.
  lab.fake.host('dst').reachable = true;
  await reconcile(lab.process('reconcile').rt, () => {});
  t.is((await lab.migration()).phase, 'rolled-back');
  t.deepEqual(lab.fake.host('dst').liveExports(), []);
  t.false([...lab.fake.host('dst').files.keys()].some((path) => path.includes('vm1')));
});

test('a copy job that QEMU ends on an error fails the migration with QEMU’s words, the source untouched', async (t) => {
  const lab = new Lab(t);
  lab.fake.mirrorBytesPerPoll = 1 << 20; // a copy of many seconds
  const process = lab.process('migrate');
  const running = migrate(process.rt, { vm: 'vm1', to: 'dst' }, (event) => {
    if (event.step === 'wait-ready' && event.status === 'start')
      setTimeout(() => lab.fake.failJob('src', 'vm1', 'vda', 1, 'No space left on device'), 100);
  });
  const error = await t.throwsAsync(running);
  t.regex(error?.message ?? '', /the block job of vda ended before it was ready: No space left on device/);
  const record = await lab.migration();
  t.is(record.phase, 'rolled-back');
  t.regex(record.lastError ?? '', /No space left on device/);
  t.is(lab.fake.host('src').domainByUuid(lab.guest.uuid)?.state, 'running');
  t.deepEqual(lab.fake.host('dst').liveExports(), []);
  assertNeverTwoCopies(t, lab);
});

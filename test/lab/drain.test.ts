/**
 * `rehome plan drain` and `rehome drain` against the namespace lab: four guests of different memory sizes on lab-a,
 * lab-b with room for two of them, lab-c for the rest, and a fifth VM too big for any host. The room on each host is
 * a share of its memory (limitGuestMemory), so the plan is the same whatever the machine's memory does meanwhile.
 */
import test, { type ExecutionContext } from 'ava';
import type { DrainCommandResult } from '../../commands/drain.js';
import type { DrainStatus } from '../../src/drain/status.js';
import type { DrainPlanReport } from '../../src/drain/types.js';
import type { MigrateResult } from '../../src/migration/services/migrate.js';
import type { StatusResult } from '../../src/migration/services/status.js';
import { jobSpeedUnder } from '../../src/sync/mirror-budget.js';
import { dataDisk } from './data-disk.js';
import { blockJobs, defineSizedGuest, limitGuestMemory, watchInitialCopies } from './drain-fleet.js';
import { cancelActiveMigrations, mirrorSteps, rehome, type StatusJson } from './helpers-migration.js';
import { type LabGuest, labDown, labUp, waitForAgent } from './lab.js';

const SIZES: Record<string, number> = { dr1: 320, dr2: 288, dr3: 256, dr4: 224 };
/**
 * Where spread placement must put them with room for 600 MiB of guests on lab-b and 700 MiB on lab-c: largest first,
 * each where the larger fraction of room stays free; dr4 then fits on lab-b only.
 */
const EXPECTED = { dr1: 'lab-c', dr2: 'lab-b', dr3: 'lab-c', dr4: 'lab-b' };
const guests: LabGuest[] = [];

test.before('lab up: three hosts, four guests on lab-a, lab-b with room for two', async () => {
  await labUp({ hosts: 3 });
  // 8 MiB of data each: at --bandwidth 2M a copy lasts ~4 s, so the drain's two lanes copy at the same time.
  const disk = await dataDisk(8);
  for (const [name, memoryMiB] of Object.entries(SIZES))
    guests.push(await defineSizedGuest(name, 'lab-a', memoryMiB, { disk }));
  await defineSizedGuest('drhuge', 'lab-a', 64 * 1024, { start: false });
  await limitGuestMemory({ 'lab-b': 600, 'lab-c': 700 });
  await Promise.all(guests.map((guest) => waitForAgent(guest.ip, { timeoutMs: 180_000 })));
});

test.afterEach.always('no migration left active; after a failure, no host left cordoned', async (t) => {
  for (const line of await cancelActiveMigrations()) t.log(`clean-up: ${line}`);
  if (t.passed) return;
  for (const host of ['lab-a', 'lab-b', 'lab-c'])
    await rehome(['hosts', 'uncordon', host], { reject: false });
});

test.after.always('lab down', async () => {
  await labDown();
});

function targets(plan: DrainPlanReport): Record<string, string> {
  return Object.fromEntries(plan.decisions.map((d) => [d.vm, d.status === 'placed' ? d.target : 'blocked']));
}

test.serial('plan drain: two on lab-b, the others on lab-c, the too-big VM blocked (exit 10)', async (t) => {
  const { exitCode, stdout, stderr } = await rehome(['plan', 'drain', 'lab-a', '--json'], { reject: false });
  t.is(exitCode, 10, stderr);
  const plan = JSON.parse(stdout) as DrainPlanReport;
  t.deepEqual(targets(plan), { ...EXPECTED, drhuge: 'blocked' });
  const huge = plan.decisions.find((d) => d.vm === 'drhuge');
  t.is(huge?.status === 'blocked' && huge.blockers[0]?.kind, 'no-target');
  t.regex(
    huge?.status === 'blocked' ? (huge.blockers[0]?.reason ?? '') : '',
    /skipped by memory on 3, host-state on 1, not-source on 1/,
  );
  t.deepEqual(plan.linkSpeed, { mibPerSec: 219, source: 'measured-in-design' });
  t.true(plan.totals.bytesToCopy > 0);
  const human = await rehome(['plan', 'drain', 'lab-a', '--explain'], { reject: false });
  t.is(human.exitCode, 10);
  t.regex(human.stdout, /drhuge is blocked:\n {2}no-target: /);
  t.regex(human.stdout, / {2}lab-b: skipped\n(.*\n)* {4}skip {4}memory: needs 64 GiB/);
  t.regex(human.stderr, /lab-a: \d+ domains? in \d+ ms/, 'inventory progress on stderr');
  t.log(human.stdout);
});

test.serial('drain refuses while a VM is blocked, and without --yes when there is no terminal', async (t) => {
  const noTty = await rehome(['drain', 'lab-a', '--deadline', '+1d'], { reject: false });
  t.is(noTty.exitCode, 2, noTty.stderr);
  t.regex(noTty.stderr, /--yes/);
  const refused = await rehome(['drain', 'lab-a', '--deadline', '+1d', '--yes', '--json'], { reject: false });
  t.is(refused.exitCode, 10, refused.stderr);
  t.regex(JSON.parse(refused.stdout).error.message, /drhuge/);
  const status = JSON.parse((await rehome(['status', '--json'])).stdout) as { migrations: unknown[] };
  t.deepEqual(status.migrations, [], 'nothing was started');
  const uncordon = JSON.parse((await rehome(['hosts', 'uncordon', 'lab-a', '--json'])).stdout);
  t.false(uncordon.changed, 'lab-a was put back to active');
});

test.serial(
  'drain --skip-blocked arms every other VM as planned, never more than N initial copies',
  async (t) => {
    // The budget counts only data (about 2 MiB on these guests' 256 MiB disks): at 2 MiB/s a copy takes seconds.
    // Counted over the whole disk, as QEMU would by itself, each would take 2 minutes, and the four at two at a time
    // more than the 200 s the drain is given. The budget must stay above what the guests dirty (their agent syncs a
    // counter 5 times a second: ~550 KB/s of 64 KiB chunks): at 256 KiB/s a copy became ready only when QEMU found
    // nothing dirty by chance, and one run in about twenty never did.
    const watcher = watchInitialCopies('lab-a');
    const run = await rehome(
      [
        'drain',
        'lab-a',
        '--deadline',
        '+1d',
        '--yes',
        '--skip-blocked',
        '--concurrency',
        '2',
        '--bandwidth',
        '2M',
        '--json',
      ],
      // Well under ava's 5 min, so that a drain that hangs fails here with what it was doing, not as a bare timeout.
      { reject: false, timeoutMs: 200_000 },
    );
    const copies = await watcher.stop();
    t.log(`block jobs on lab-a: ${JSON.stringify(copies)}`);
    if (run.exitCode !== 0) await logWhereTheDrainStood(t);
    t.is(run.exitCode, 0, run.stderr);
    const result = JSON.parse(run.stdout) as DrainCommandResult;
    if ('cancelled' in result) return t.fail('cancelled');
    t.deepEqual(Object.fromEntries(result.drain.vms.map((vm) => [vm.vmName, vm.outcome])), {
      dr1: 'armed',
      dr2: 'armed',
      dr3: 'armed',
      dr4: 'armed',
      drhuge: 'blocked',
    });
    t.true(copies.samples > 3, 'the job lists were read during the drain');
    t.true(
      copies.maxCopying <= 2,
      `QEMU never ran more than 2 initial copies at once, saw ${copies.maxCopying}`,
    );
    t.is(copies.maxJobs, 4, 'all four mirrors ran, and stay once armed');
    // A sample takes ~1.5 s and may miss a copy: the audit log's step times say how many overlapped, every time.
    const spans = await Promise.all(['dr1', 'dr2', 'dr3', 'dr4'].map((vm) => mirrorSteps(vm)));
    const atOnce = Math.max(
      ...spans.map((span) => spans.filter((o) => o.from <= span.from && span.from < o.to).length),
    );
    const first = Math.min(...spans.map((span) => span.from));
    t.log(
      `initial copies, ms into the drain: ${spans.map((s) => `${s.from - first}-${s.to - first}`).join(', ')}`,
    );
    t.is(atOnce, 2, 'two initial copies at once (--concurrency 2), never more, by the audit log');
    const jobs = await blockJobs('lab-a');
    t.deepEqual(
      jobs.map((job) => [job.domain, job.ready, job.speed]).sort(),
      ['dr1', 'dr2', 'dr3', 'dr4'].map((vm) => [vm, true, jobSpeedUnder(2 * 1024 * 1024)]),
      'each mirror is ready, and the governor left its job at its speed over data (20/21 of the budget)',
    );
    const status = JSON.parse((await rehome(['status', '--json'])).stdout) as {
      migrations: { vm: string; target: string; phase: string }[];
    };
    t.deepEqual(
      Object.fromEntries(status.migrations.map((m) => [m.vm, [m.target, m.phase]])),
      Object.fromEntries(Object.entries(EXPECTED).map(([vm, target]) => [vm, [target, 'armed']])),
    );
    const cordon = JSON.parse((await rehome(['hosts', 'cordon', 'lab-a', '--json'])).stdout);
    t.like(cordon, { before: 'draining', changed: false });
    const drainView = JSON.parse(
      (await rehome(['status', '--host', 'lab-a', '--json'])).stdout,
    ) as DrainStatus;
    t.like(drainView, { host: 'lab-a', hostState: 'draining', moved: 0, remaining: 5, empty: false });
    t.deepEqual(Object.fromEntries(drainView.vms.map((vm) => [vm.vm, [vm.target, vm.phase]])), {
      ...Object.fromEntries(Object.entries(EXPECTED).map(([vm, target]) => [vm, [target, 'armed']])),
      drhuge: [null, null],
    });
    for (const guest of guests) await rehome(['cancel', guest.name]);
  },
);

test.serial('migrate without --to: placement picks a host that is not the source nor cordoned', async (t) => {
  await rehome(['hosts', 'cordon', 'lab-c']);
  const started = Date.now();
  const run = await rehome(['migrate', 'dr4', '--json'], { reject: false, timeoutMs: 300_000 });
  t.is(run.exitCode, 0, run.stderr);
  const armed = JSON.parse(run.stdout) as MigrateResult;
  t.like(armed, { source: 'lab-a', target: 'lab-b', phase: 'armed', deadlineSource: 'operator-limit' });
  t.like(armed.targetChoice, { by: 'placement' });
  t.regex(armed.targetChoice.reason, /^lab-b: passes every filter/);
  const days = (Date.parse(armed.deadline) - started) / 86_400_000;
  t.true(days > 29.99 && days <= 30.01, `the default deadline is the operator's 30 days (${days})`);
  const status = JSON.parse((await rehome(['status', 'dr4', '--json'])).stdout) as StatusResult;
  t.is(status.migrations.at(-1)?.deadline, armed.deadline, 'stored, so watch and reconcile enforce it');
  await rehome(['cancel', 'dr4']);

  await rehome(['hosts', 'cordon', 'lab-b']);
  const nowhere = await rehome(['migrate', 'dr4', '--json'], { reject: false });
  t.is(nowhere.exitCode, 10, nowhere.stderr);
  const message = JSON.parse(nowhere.stdout).error.message as string;
  t.regex(message, /dr4 fits on no host/);
  t.regex(message, /lab-b: host-state: host is cordoned/);
  t.regex(message, /lab-c: host-state: host is cordoned/);
  t.log(message);
  await rehome(['hosts', 'uncordon', 'lab-b']);
  await rehome(['hosts', 'uncordon', 'lab-c']);
});

/** For a drain that failed or hung: each migration's phase and last steps, and the block jobs on lab-a. */
async function logWhereTheDrainStood(t: ExecutionContext): Promise<void> {
  // `status VM` carries the audit history; `status` alone does not.
  for (const vm of Object.keys(EXPECTED)) {
    const status = await rehome(['status', vm, '--json'], { reject: false });
    try {
      const m = (JSON.parse(status.stdout) as StatusJson).migrations.at(-1);
      t.log(`${vm}: ${m?.phase} ${m?.lastError ?? ''} ${JSON.stringify(m?.history?.slice(-6))}`);
    } catch {
      t.log(`rehome status ${vm}: ${status.stderr}`);
    }
  }
  t.log(`block jobs now: ${JSON.stringify(await blockJobs('lab-a').catch((error) => String(error)))}`);
}

/**
 * Faults not tried elsewhere, each with the checks a user would make: the guest keeps running where it was (never
 * paused), its acknowledged writes are all there, the migration says why it failed, and nothing is left on the target.
 * - the target host disappears (its uplink down) during the initial copy;
 * - the target's image directory fills up during the copy (a small tmpfs mounted over it inside lab-b);
 * - the operator machine cannot reach the source for a minute while the VM is armed, and the guest reboots meanwhile;
 * - the operator machine cannot reach the target when `rehome reboot` is asked for.
 */
import test from 'ava';
import {
  assertGuestOn,
  domUuid,
  exportLeftovers,
  phaseEnteredAt,
  phaseOf,
  rehome,
  rehomeJson,
  type StatusJson,
  waitForPhase,
} from './helpers-migration.js';
import { inHost } from './hosts.js';
import { agentQuery, agentReboot, waitForAgent, whereRuns } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { GUEST_IMAGE_DIR, hostAddress, hostVeth, OPERATOR_NS } from './paths.js';
import { run, runMaybe, sleep, waitFor } from './run.js';

const lab = useMigrationLab(test);

/** libvirt's state and reason: "running (booted)" until someone pauses it ("running (unpaused)" after a resume). */
async function domStateIn(host: string, name: string): Promise<string> {
  const result = await inHost(host, ['virsh', 'domstate', '--reason', name]);
  return result.stdout.trim();
}

/** The source's block job on vda, read inside the host (the operator may be cut off from it). */
async function blockJobIn(host: string, name: string): Promise<string> {
  const result = await inHost(host, ['virsh', 'blockjob', name, 'vda', '--info']);
  return `${result.stdout}${result.stderr}`.trim();
}

async function statusOf(vm: string): Promise<StatusJson['migrations'][number] | undefined> {
  return (await rehomeJson<StatusJson>(['status', vm])).migrations.at(-1);
}

test.serial(
  'the target host disappears during the initial copy: seen within 30 s, the source untouched and never paused, the reason in status, the target cleaned once back',
  async (t) => {
    const guest = await lab.bootedDataGuest('ft1');
    // 4 MiB/s for 96 MiB of data: the copy lasts long enough to pull the link in the middle of it.
    const migrate = await lab.startRehome(['migrate', guest.name, '--to', 'lab-b', '--bandwidth', '4']);
    await waitForPhase(guest.name, ['mirroring'], 120_000);
    await waitFor(
      'the copy to lab-b under way',
      async () => (/Block Copy: \[ *[1-9]/.test(await blockJobIn('lab-a', guest.name)) ? true : undefined),
      60_000,
      200,
    );
    const before = await agentQuery(guest.ip);
    t.is(await phaseOf(guest.name), 'mirroring', 'still copying when the target goes');

    const veth = hostVeth('lab-b');
    t.teardown(() => runMaybe(['ip', '-n', OPERATOR_NS, 'link', 'set', veth, 'up']).then(() => undefined));
    await run(['ip', '-n', OPERATOR_NS, 'link', 'set', veth, 'down']);
    const downAt = Date.now();

    await waitForPhase(guest.name, ['rolling-back', 'rolled-back', 'failed'], 60_000);
    const seenAt = (await phaseEnteredAt(guest.name, 'rolling-back')) ?? Number.NaN;
    t.log(`failure seen ${seenAt - downAt} ms after lab-b's link went down`);
    t.true(seenAt - downAt <= 30_000, `seen ${seenAt - downAt} ms after the link went down`);
    const seen = await statusOf(guest.name);
    t.regex(seen?.lastError ?? '', /lab-b/, `the reason names the target: ${seen?.lastError}`);

    // The source: its copy job gone, the guest running there and never paused, its counter going on.
    await waitFor(
      'no block job left on lab-a',
      async () => (/No current block job/i.test(await blockJobIn('lab-a', guest.name)) ? true : undefined),
      60_000,
      200,
    ).catch(async (err) => {
      t.log(`lab-a: ${await blockJobIn('lab-a', guest.name)}; migrate: ${await migrate.log()}`);
      throw err;
    });
    t.log(`the source's copy job ended ${Date.now() - downAt} ms after the link went down`);
    t.is(await domStateIn('lab-a', guest.name), 'running (booted)', 'never paused');
    const during = await agentQuery(guest.ip);
    t.is(during.boot, before.boot, 'not rebooted');
    t.true(during.counter > before.counter, 'its writes go on');

    const code = await Promise.race([migrate.exited, sleep(120_000).then(() => 'still running' as const)]);
    t.not(code, 0, `migrate exited ${code}: ${await migrate.log()}`);
    const log = await migrate.log();
    t.log(`migrate: ${log.trim().split('\n').slice(-3).join(' | ')}`);
    t.regex(log, /lab-b/, 'the migrate command says which host failed');
    const after = await statusOf(guest.name);
    t.log(`after migrate: ${after?.phase}: ${after?.lastError}`);
    t.regex(after?.lastError ?? '', /lab-b/, 'status still says why');

    // lab-b back: reconcile finishes the rollback there, and nothing of the copy is left.
    await run(['ip', '-n', OPERATOR_NS, 'link', 'set', veth, 'up']);
    await waitFor(
      'the migration rolled back on lab-b',
      async () => {
        if ((await phaseOf(guest.name)) === 'rolled-back') return true;
        await rehome(['reconcile', '--vm', guest.name], { reject: false });
        return (await phaseOf(guest.name)) === 'rolled-back' ? true : undefined;
      },
      120_000,
      1000,
    );
    const final = await statusOf(guest.name);
    t.log(`final: ${final?.phase}: ${final?.lastError}`);
    const { migrations } = await rehomeJson<{
      migrations: { history: { step: string; outcome: string; detail: { error?: string } }[] }[];
    }>(['status', guest.name]);
    const cause = migrations.at(-1)?.history.find((h) => h.step === 'wait-ready' && h.outcome === 'error');
    t.regex(cause?.detail.error ?? '', /lab-b/, 'its history keeps why the copy failed');
    t.deepEqual(await exportLeftovers('lab-b', guest.name), { nbd: '', images: '' }, 'nothing left on lab-b');
    t.is(await domUuid('lab-b', guest.name), undefined, 'nothing defined on lab-b');
    t.deepEqual(await whereRuns(guest.name), ['lab-a']);
    t.is(await domStateIn('lab-a', guest.name), 'running (booted)', 'never paused');
    t.true((await agentQuery(guest.ip)).counter > during.counter);
  },
);

test.serial(
  'the target image directory fills up during the copy: a clean failure saying so, nothing left on the target, the guest never paused',
  async (t) => {
    const guest = await lab.bootedDataGuest('ft2');
    // 32 MiB where 96 MiB of data must go; inside lab-b's own mount namespace, which its sshd and qemu-nbd share.
    t.teardown(async () => {
      await inHost('lab-b', ['umount', '-l', GUEST_IMAGE_DIR]);
    });
    const mounted = await inHost('lab-b', [
      'mount',
      '-t',
      'tmpfs',
      '-o',
      'size=32m,mode=0711',
      'rehome-small-images',
      GUEST_IMAGE_DIR,
    ]);
    t.is(mounted.exitCode, 0, mounted.stderr);

    const result = await rehome(['migrate', guest.name, '--to', 'lab-b', '--json'], {
      reject: false,
      timeoutMs: 180_000,
    });
    t.log(`migrate exited ${result.exitCode}: ${result.stdout.trim()} ${result.stderr.trim()}`);
    t.not(result.exitCode, 0);
    t.regex(`${result.stdout}${result.stderr}`, /no space left/i, 'the reason in words');
    const status = await statusOf(guest.name);
    t.is(status?.phase, 'rolled-back', status?.lastError ?? '');
    t.regex(status?.lastError ?? '', /no space left/i, 'status says why');

    t.deepEqual(await exportLeftovers('lab-b', guest.name), { nbd: '', images: '' }, 'nothing left on lab-b');
    const used = await inHost('lab-b', ['df', '-B1', '--output=used', GUEST_IMAGE_DIR]);
    t.regex(used.stdout, /^\s*0\s*$/m, `the small image dir is empty again: ${used.stdout}`);
    t.deepEqual(await whereRuns(guest.name), ['lab-a']);
    t.is(await domStateIn('lab-a', guest.name), 'running (booted)', 'never paused');
    t.regex(await blockJobIn('lab-a', guest.name), /No current block job/i);
    const status2 = await agentQuery(guest.ip);
    t.is(status2.boot, 1, 'not rebooted');
  },
);

/** Drops everything between the operator namespace and a host (the bridged traffic between hosts passes). */
async function cutOperatorFrom(host: string, cut: boolean): Promise<void> {
  const action = cut ? '-I' : '-D';
  const address = hostAddress(host);
  for (const rule of [
    ['INPUT', '-s', address],
    ['OUTPUT', '-d', address],
  ]) {
    const argv = ['ip', 'netns', 'exec', OPERATOR_NS, 'iptables', '-w', action, ...rule, '-j', 'DROP'];
    if (cut) await run(argv);
    else await runMaybe(argv);
  }
}

/** The operator loses the source for a minute: longer than libvirt’s keepalive (~30 s) and SSH’s (3 × 15 s). */
const OUTAGE_MS = 60_000;

test.serial(
  'the operator loses the source for a minute while armed and the guest reboots then: it reboots in place, nothing lost, watch picks it up again and the next reboot moves it',
  async (t) => {
    const guest = await lab.bootedGuest('ft3');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    const watch = await lab.startRehome(['watch']);
    await watch.waitForLog(/listening to lab-a/);
    const listening = async () => ((await watch.log()).match(/listening to lab-a/g) ?? []).length;
    const before = await agentQuery(guest.ip);

    t.teardown(() => cutOperatorFrom('lab-a', false));
    await cutOperatorFrom('lab-a', true);
    const cutAt = Date.now();
    const ssh = await runMaybe([
      'ip',
      'netns',
      'exec',
      OPERATOR_NS,
      'busybox',
      'nc',
      '-w',
      '2',
      hostAddress('lab-a'),
      '22',
    ]);
    t.not(ssh.exitCode, 0, 'the operator cannot reach lab-a');

    // The guest reboots while watch still believes its connection alive: the event is stuck on the way.
    await agentReboot(guest.ip);
    const rebooted = await waitForAgent(guest.ip, { minBoot: before.boot + 1, timeoutMs: 120_000 });
    t.is(rebooted.boot, before.boot + 1, 'rebooted once');
    t.is(await domStateIn('lab-a', guest.name), 'running (booted)', 'rebooted in place, never paused');
    t.is((await inHost('lab-b', ['virsh', 'domstate', guest.name])).exitCode, 1, 'nothing on lab-b');
    t.regex(await blockJobIn('lab-a', guest.name), /Block Copy/, 'the mirror lives on in the same QEMU');
    t.is(await phaseOf(guest.name), 'armed', 'still armed');

    await watch.waitForLog(/lost lab-a/, OUTAGE_MS + 30_000);
    const left = OUTAGE_MS - (Date.now() - cutAt);
    if (left > 0) await sleep(left);
    const inPlace = await agentQuery(guest.ip);
    t.is(inPlace.boot, rebooted.boot, 'no second reboot while cut off');
    t.true(inPlace.counter > rebooted.counter, 'it runs and writes');
    const seenBefore = await listening();
    await cutOperatorFrom('lab-a', false);
    const restoredAt = Date.now();

    await waitFor(
      'watch listening to lab-a again',
      async () => ((await listening()) > seenBefore ? true : undefined),
      120_000,
      200,
    );
    t.log(`watch listens to lab-a again ${Date.now() - restoredAt} ms after the link came back`);
    t.deepEqual(await whereRuns(guest.name), ['lab-a'], 'it booted in place: still on lab-a only');
    t.is(await phaseOf(guest.name), 'armed', 'still armed');
    t.is((await agentQuery(guest.ip)).boot, rebooted.boot, 'no late reboot event acted upon');

    // The next reboot moves it.
    await agentReboot(guest.ip);
    t.is(
      await waitForPhase(guest.name, ['done', 'rolled-back', 'failed'], 180_000),
      'done',
      await watch.log(),
    );
    await assertGuestOn(t, guest, 'lab-b', rebooted.boot + 1);
    t.is(await domUuid('lab-a', guest.name), undefined, 'the source domain is undefined');
  },
);

test.serial(
  '`rehome reboot` while the operator cannot reach the target: refused before the guest is asked, it keeps running on the source, still armed',
  async (t) => {
    const guest = await lab.bootedGuest('ft4');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    const before = await agentQuery(guest.ip);
    t.teardown(() => cutOperatorFrom('lab-b', false));
    await cutOperatorFrom('lab-b', true);
    const result = await rehome(['reboot', guest.name, '--json'], { reject: false });
    await cutOperatorFrom('lab-b', false);
    const { error } = JSON.parse(result.stdout) as { error?: { kind: string; message: string } };
    t.is(error?.kind, 'unreachable', result.stdout);
    t.true(error?.message.includes(hostAddress('lab-b')), 'the error names the target');
    t.not(result.exitCode, 0);
    const after = await agentQuery(guest.ip);
    t.is(after.boot, before.boot, 'the guest was asked to reboot');
    t.true(after.counter > before.counter, 'it runs and writes');
    t.deepEqual(await whereRuns(guest.name), ['lab-a']);
    t.is(await phaseOf(guest.name), 'armed', 'still armed');
  },
);

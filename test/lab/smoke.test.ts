import { readFile } from 'node:fs/promises';
import test from 'ava';
import {
  agentQuery,
  agentReboot,
  checkNothingLost,
  defineGuest,
  isClean,
  type LabGuest,
  labDown,
  labSh,
  labUp,
  leftovers,
  ping,
  waitForAgent,
  whereRuns,
} from './lab.js';
import { labPaths } from './paths.js';
import { runMaybe } from './run.js';

let guest: LabGuest | undefined;

function needGuest(): LabGuest {
  if (!guest) throw new Error('no guest: an earlier step failed');
  return guest;
}

test.after.always('tear the lab down', async () => {
  await labDown();
});

test.serial('three hosts come up, each reachable over ssh with its host key checked', async (t) => {
  const since = Date.now();
  const state = await labUp({ hosts: 3 });
  t.log(`lab up: ${Date.now() - since} ms`);
  t.deepEqual(state.hosts, ['lab-a', 'lab-b', 'lab-c']);
  for (const host of state.hosts) {
    const { stdout } = await labSh(['ssh', host, 'hostname']);
    t.is(stdout.trim(), host);
  }
  const { stdout: netns } = await runMaybe(['ip', 'netns', 'list']);
  for (const ns of ['rh-op', 'rh-lab-a', 'rh-lab-b', 'rh-lab-c'])
    t.regex(netns, new RegExp(`^${ns}\\b`, 'm'));
});

test.serial('a guest on lab-a answers its agent port and ping from the operator namespace', async (t) => {
  const since = Date.now();
  guest = await defineGuest('smoke', { host: 'lab-a' });
  const status = await waitForAgent(guest.ip, { timeoutMs: 120_000 });
  t.log(`guest define+start to agent answering: ${Date.now() - since} ms`);
  t.is(status.boot, 1);
  t.true(await ping(guest.ip));
});

test.serial('ssh lab-a virsh list shows the guest running', async (t) => {
  const { stdout } = await labSh(['ssh', 'lab-a', 'virsh', 'list']);
  t.regex(stdout, /\ssmoke\s+running/);
});

test.serial('a reboot asked through the agent port brings it back with its counters intact', async (t) => {
  const { ip } = needGuest();
  // Let it acknowledge a few values, so that a lost write would show.
  await waitForAgent(ip, { timeoutMs: 30_000 });
  const before = await agentQuery(ip);
  const since = Date.now();
  await agentReboot(ip);
  const after = await waitForAgent(ip, { minBoot: before.boot + 1, timeoutMs: 120_000 });
  t.log(`reboot to agent answering: ${Date.now() - since} ms`);
  t.is(after.boot, before.boot + 1);
  t.true(after.counter >= before.counter, `counter went back from ${before.counter} to ${after.counter}`);
  const report = await checkNothingLost('smoke');
  t.true(report.ok, report.problems.join('; '));
  const transition = report.transitions.find((entry) => entry.boot === after.boot);
  t.truthy(transition, 'the console logs record the reboot');
  t.true((transition?.lastAckedBefore ?? 0) >= before.counter);
});

test.serial('libvirt says the guest runs on lab-a only', async (t) => {
  t.deepEqual(await whereRuns('smoke'), ['lab-a']);
});

test.serial('down leaves no namespace, process, mount or link behind', async (t) => {
  const running = await leftovers();
  t.true(running.processes.length > 0, 'the lab had processes before down');
  const qemuPid = Number(
    (await readFile(`${labPaths().hosts}/lab-a/run/libvirt/qemu/smoke.pid`, 'utf8')).trim(),
  );
  const since = Date.now();
  await labDown();
  t.log(`lab down: ${Date.now() - since} ms`);
  const left = await leftovers();
  t.true(isClean(left), JSON.stringify(left));
  const { stdout: netns } = await runMaybe(['ip', 'netns', 'list']);
  t.notRegex(netns, /^rh-/m);
  // Zombies do not count: daemons orphaned to PID 1 (dnsmasq forks itself away) wait ~2 s for its reaping.
  const { stdout: ps } = await runMaybe(['ps', '-eo', 'pid=,stat=,comm=']);
  const table = ps
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, stat]) => stat && !stat.startsWith('Z'));
  const runs = (pid: number) => table.some(([p]) => Number(p) === pid);
  for (const { pid, comm } of running.processes) t.false(runs(pid), `${comm} (${pid}) still runs`);
  t.false(runs(qemuPid), `QEMU (${qemuPid}) still runs`);
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  t.false(mounts.includes(labPaths().root), 'a mount under the lab dir remains');
  t.false(mounts.includes('/run/netns/rh-'), 'a lab netns mount remains');
});

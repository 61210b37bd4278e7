/**
 * A real Linux distribution moved at its own reboot: the Debian 12 lab guest (test/lab/debian-guest.ts).
 * - UEFI (OVMF) with a vTPM: before arming it writes a UEFI variable, a TPM NV index and a boot entry; it reboots
 *   itself with `systemctl reboot`; on the target all three read back the same, with the same MAC and IP and its
 *   counter intact. Placement skips a host without the OVMF loader and one without swtpm, and says why.
 * - BIOS: moved by a plain in-guest `reboot`; a systemd unit in the guest reads the maintenance signal and logs it.
 */
import test, { type ExecutionContext } from 'ava';
import type { DrainPlanReport } from '../../src/drain/types.js';
import { debianAgent, defineDebianGuest, OVMF_CODE } from './debian-guest.js';
import { assertGuestOn, domUuid, rehomeJson, type StatusJson, waitForPhase } from './helpers-migration.js';
import { inHost } from './hosts.js';
import { agentQuery, type LabGuest, readConsoleLog, virsh, waitForAgent } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { waitFor } from './run.js';

const lab = useMigrationLab(test, { hosts: 4 });
/** TCG boots a Debian guest (kernel, systemd, DHCP) in about 40 s on an idle machine: give a loaded one room. */
const BOOT_MS = 300_000;

async function debianGuest(t: ExecutionContext, name: string, uefi: boolean): Promise<LabGuest> {
  const started = Date.now();
  const guest = await defineDebianGuest(name, { host: 'lab-a', uefi, progress: (line) => t.log(line) });
  lab.adopt(guest);
  const defined = Date.now();
  await waitForAgent(guest.ip, { timeoutMs: BOOT_MS });
  t.log(
    `${name}: image ready in ${defined - started} ms, booted (agent answers) in ${Date.now() - defined} ms`,
  );
  return guest;
}

/** Makes a file look absent on one lab host only: /dev/null (not a regular file) bind-mounted over it. */
async function hideOnHost(t: ExecutionContext, host: string, file: string): Promise<void> {
  const result = await inHost(host, ['mount', '--bind', '/dev/null', file]);
  if (result.exitCode !== 0) throw new Error(`mount over ${file} on ${host}: ${result.stderr}`);
  t.teardown(async () => {
    await inHost(host, ['umount', file]);
  });
}

async function rebootInGuestAndMove(
  t: ExecutionContext,
  guest: LabGuest,
  command: 'reboot' | 'systemctl-reboot',
  target: string,
) {
  const watch = await lab.startRehome(['watch']);
  await watch.waitForLog(/listening to lab-a/);
  const before = await agentQuery(guest.ip);
  const since = Date.now();
  t.regex(await debianAgent(guest.ip, command), /^rebooting/);
  // The guest itself first: back with a new boot, on the target only.
  await waitForAgent(guest.ip, { minBoot: before.boot + 1, timeoutMs: BOOT_MS });
  t.log(`${guest.name}: in-guest ${command} → agent answering on ${target}: ${Date.now() - since} ms`);
  await assertGuestOn(t, guest, target, before.boot + 1);
  t.is(await domUuid('lab-a', guest.name), undefined, 'the source definition is gone');
  const log = await watch.log();
  await watch.stop();
  t.is(await waitForPhase(guest.name, ['done', 'rolled-back', 'failed'], 60_000), 'done', log);
  type WithHistory = Omit<StatusJson['migrations'][number], 'history'> & { history?: StepEntry[] };
  const status = await rehomeJson<{ migrations: WithHistory[] }>(['status', guest.name]);
  const last = status.migrations.at(-1);
  return { timeline: last?.timeline ?? {}, history: last?.history ?? [] };
}

/** A step's line in `rehome status VM --json`'s history: the runner records how long each step's action took. */
interface StepEntry {
  step: string;
  outcome: string;
  detail: { ms?: number; files?: number; bytes?: number };
}

test.serial(
  'a UEFI + vTPM Debian guest keeps its UEFI variable, boot entry and TPM NV index across `systemctl reboot`',
  async (t) => {
    t.timeout(2 * BOOT_MS + 120_000);
    const guest = await debianGuest(t, 'deb-efi', true);
    await hideOnHost(t, 'lab-c', OVMF_CODE);
    await hideOnHost(t, 'lab-d', '/usr/bin/swtpm');
    const value = `v${Date.now().toString(36)}`;
    t.is(await debianAgent(guest.ip, `fw-write ${value}`), `written ${value}`);
    const written = await debianAgent(guest.ip, 'fw-read');
    t.is(written, `efivar=${value} nv=${value} bootentry=${value}`);

    const plan = await rehomeJson<DrainPlanReport>(['plan', 'drain', 'lab-a', '--explain'], {
      reject: false,
    });
    const decision = plan.decisions.find((d) => d.vm === guest.name);
    t.is(decision?.status === 'placed' ? decision.target : decision?.status, 'lab-b');
    const skipped = Object.fromEntries(
      (decision?.explain ?? []).map((c) => [
        c.host,
        c.verdicts.find((v) => v.filter === 'firmware' && v.status === 'skip')?.reason,
      ]),
    );
    t.is(skipped['lab-c'], `loader ${OVMF_CODE} missing`);
    t.is(skipped['lab-d'], 'swtpm not installed (the guest has a vTPM)');
    t.is(skipped['lab-b'], undefined);

    const armed = await rehomeJson<{ phase: string; target: string }>(['migrate', guest.name]);
    t.deepEqual([armed.phase, armed.target], ['armed', 'lab-b']);
    const { timeline, history } = await rebootInGuestAndMove(t, guest, 'systemctl-reboot', 'lab-b');
    t.is(await debianAgent(guest.ip, 'fw-read'), written, 'the firmware state read back on the target');
    t.true((timeline.firmwareCarried ?? -1) >= (timeline.sourceStopped ?? Number.POSITIVE_INFINITY));
    const carry = history.find((h) => h.step === 'carry-firmware' && h.outcome === 'ok')?.detail;
    t.true((carry?.files ?? 0) >= 2 && (carry?.bytes ?? 0) > 0, JSON.stringify(carry));
    t.log(
      `cutover timeline (ms from the reboot event): ${JSON.stringify(timeline)}; the carry-firmware step took ${carry?.ms} ms (${carry?.files} files, ${carry?.bytes} bytes)`,
    );
    // Retained on the source like its disks: the NVRAM file and the TPM state (never written by rehome).
    const left = await inHost('lab-a', ['ls', `/var/lib/libvirt/qemu/nvram/${guest.name}_VARS.fd`]);
    t.is(left.exitCode, 0, 'the source NVRAM file is retained');
  },
);

test.serial(
  'a BIOS Debian guest moves at a plain `reboot` and its systemd unit logs the maintenance signal',
  async (t) => {
    t.timeout(2 * BOOT_MS + 120_000);
    const guest = await debianGuest(t, 'deb-bios', false);
    const armed = await rehomeJson<{ id: string; phase: string }>([
      'migrate',
      guest.name,
      '--to',
      'lab-b',
      '--deadline',
      '+1d',
    ]);
    t.is(armed.phase, 'armed');
    const line = await waitFor(
      'the SIGNAL line of the scheduled move on the console',
      async () =>
        (await readConsoleLog('lab-a', guest.name)).split(/\r?\n/).find((l) => l.startsWith('SIGNAL ')),
      60_000,
      500,
    );
    const signal = JSON.parse(line.slice('SIGNAL '.length)) as {
      state: string;
      migration: string;
      vm: string;
    };
    t.deepEqual([signal.state, signal.migration, signal.vm], ['scheduled', armed.id, guest.name]);
    const ping = await virsh('lab-a', ['qemu-agent-command', guest.name, '{"execute":"guest-ping"}']);
    t.regex(ping.stdout, /return/, 'qemu-guest-agent answers');
    await rebootInGuestAndMove(t, guest, 'reboot', 'lab-b');
  },
);

import test, { type ExecutionContext } from 'ava';
import { migrateAndReboot, reconcileUntilQuiet, untilEndOrCrash } from '../fake/crash.js';
import { Lab } from '../fake/engine-harness.js';
import { permallPath, tpmStateDir } from '../fake/fake-firmware.js';
import type { FakeHost } from '../fake/fake-host.js';
import { guestXml, readDomainXml } from '../fake/guest-xml.js';
import { assertMoved, assertNeverTwoCopies, assertRolledBack } from '../fake/invariants.js';
import { libvirtError } from '../fake/libvirt-errors.js';
import {
  LibvirtErrorCode,
  type MigrationJob,
  type MigrationRecord,
  runCutover,
} from '../fake/src-imports.js';

/**
 * A UEFI guest with a vTPM: its NVRAM file and swtpm state directory go to the target at the cutover, after the
 * source QEMU wrote its last state (the fake appends "+exit" when a QEMU stops), with owners and modes; a rollback
 * removes the target's copies and never writes the source's.
 */

const NVRAM = '/var/lib/libvirt/qemu/nvram/vm1_VARS.fd';
const WRITES = new Set(['dd', 'mv', 'chown', 'chmod', 'mkdir', 'rm', 'cp', 'truncate']);

type T = ExecutionContext<unknown>;

/** Path → "mode owner:group content" of every firmware file and directory of the guest on a host. */
function firmwareState(host: FakeHost, uuid: string): Record<string, string> {
  const state: Record<string, string> = {};
  for (const [path, file] of host.files) {
    if (file.kind === 'blob' && (path === NVRAM || path.startsWith(`${tpmStateDir(uuid)}/`)))
      state[path] = `${file.mode} ${file.owner}:${file.group} ${file.data.toString()}`;
  }
  for (const [path, dir] of host.dirs) {
    if (path === tpmStateDir(uuid) || path.startsWith(`${tpmStateDir(uuid)}/`))
      state[path] = `${dir.mode} ${dir.owner}:${dir.group} dir`;
  }
  return state;
}

/** Firmware paths the source was asked to change, and every extraction there (its paths are in the archive). */
function sourceWrites(lab: Lab, uuid: string): string[][] {
  return lab.fake
    .host('src')
    .commands.filter(
      (argv) =>
        (argv[0] === 'tar' && !argv.includes('-c')) ||
        (WRITES.has(argv[0] ?? '') &&
          argv.some((arg) => arg.startsWith(NVRAM) || arg.startsWith(tpmStateDir(uuid)))),
    );
}

function assertCarried(t: T, lab: Lab, record: MigrationRecord): void {
  const { uuid } = lab.guest;
  const source = firmwareState(lab.fake.host('src'), uuid);
  const target = firmwareState(lab.fake.host('dst'), uuid);
  t.deepEqual(target, source, 'the target firmware state differs from the source');
  t.regex(source[NVRAM] ?? '', /^600 libvirt-qemu:libvirt-qemu vm1 vars: .*\+exit$/, 'not the final NVRAM');
  t.regex(source[permallPath(uuid)] ?? '', /^600 tss:tss vm1 tpm: .*\+exit$/, 'not the final TPM state');
  t.is(source[tpmStateDir(uuid)], '711 root:root dir');
  t.is(readDomainXml(lab.fake.host('dst').domainByUuid(uuid)?.xml ?? '<domain/>').nvramPath, NVRAM);
  const job = record.job as unknown as MigrationJob;
  t.deepEqual(
    job.firmware?.carried?.map((file) => file.path),
    [NVRAM, permallPath(uuid)],
  );
  t.deepEqual(sourceWrites(lab, uuid), [], 'the source firmware files were written');
}

async function cutoverCalls(): Promise<number> {
  const lab = new Lab({ teardown: () => {} }, { nvram: true, tpm: true });
  await lab.arm();
  const process = lab.process('count');
  await runCutover(await lab.context(process));
  await lab.store.close();
  return process.session.calls;
}

const calls = await cutoverCalls();

test('a UEFI guest with a vTPM moves with its NVRAM and TPM state, timed in the cutover timeline', async (t) => {
  const lab = new Lab(t, { nvram: true, tpm: true });
  await lab.arm();
  const process = lab.process('cutover');
  t.is(await runCutover(await lab.context(process), { eventAt: Date.now() }), 'done');
  const record = await lab.migration();
  assertMoved(t, lab, record);
  assertCarried(t, lab, record);
  const timeline = (record.job as unknown as MigrationJob).timeline ?? {};
  // Carried once the source stopped (its files are final), and before the target starts.
  t.true((timeline.firmwareCarried ?? -1) >= (timeline.sourceStopped ?? Number.POSITIVE_INFINITY));
  t.true((timeline.started ?? -1) >= (timeline.firmwareCarried ?? Number.POSITIVE_INFINITY));
  const audit = await lab.auditSteps(record);
  t.true(audit.includes('carry-firmware:ok'));
});

test('a BIOS guest without a TPM skips the step', async (t) => {
  const lab = new Lab(t);
  await lab.arm();
  t.is(await runCutover(await lab.context(lab.process('cutover'))), 'done');
  t.true((await lab.auditSteps()).includes('carry-firmware:info'));
  t.deepEqual(firmwareState(lab.fake.host('dst'), lab.guest.uuid), {});
});

test('without the carry the target would boot fresh firmware (the fake models libvirt at start)', async (t) => {
  const lab = new Lab(t, { nvram: true, tpm: true });
  const dst = lab.fake.host('dst');
  const client = await lab.process('probe').session.hosts.libvirt('dst');
  await client.defineDomainXml(
    guestXml({ ...lab.guest, disks: [], name: 'fresh', uuid: '00000000-0000-4000-8000-000000000001' }),
  );
  await client.createDomain({ name: 'fresh', uuid: '00000000-0000-4000-8000-000000000001', id: -1 });
  t.regex((dst.files.get(NVRAM) as { data: Buffer }).data.toString(), /^fresh vars/);
});

test('every cutover call failing in turn: rolled back with the target clean, or moved with the state carried', async (t) => {
  t.true(calls > 30, `only ${calls} calls`);
  const outcomes = new Set<string>();
  for (let call = 1; call <= calls; call++) {
    const lab = new Lab({ teardown: () => {} }, { nvram: true, tpm: true });
    await lab.arm();
    const before = firmwareState(lab.fake.host('src'), lab.guest.uuid);
    const process = lab.process('cutover');
    process.session.failAtCall(call, libvirtError(LibvirtErrorCode.internalError, `call ${call} failed`));
    const outcome = await runCutover(await lab.context(process)).catch(
      (err: Error) => `threw: ${err.message}`,
    );
    const record = await lab.migration();
    outcomes.add(outcome);
    assertNeverTwoCopies(t, lab);
    t.deepEqual(
      sourceWrites(lab, lab.guest.uuid),
      [],
      `call ${call}: the source firmware files were written`,
    );
    if (outcome === 'rolled-back') {
      assertRolledBack(t, lab, record);
      t.deepEqual(firmwareState(lab.fake.host('dst'), lab.guest.uuid), {}, `call ${call}: copies left`);
      const after = firmwareState(lab.fake.host('src'), lab.guest.uuid);
      // The only change on the source is the guest's own: its QEMU wrote its last state when it stopped.
      for (const [path, state] of Object.entries(before))
        t.true((after[path] ?? '').startsWith(state), `call ${call}: ${path} changed`);
    } else if (outcome === 'done') {
      assertCarried(t, lab, record);
    } else {
      t.is(record.phase, 'failed', `call ${call}: ${outcome}`);
      assertCarried(t, lab, record);
    }
    await lab.store.close();
  }
  t.true(outcomes.has('rolled-back') && outcomes.has('done'), [...outcomes].join(', '));
});

test('kill -9 at every call of a whole UEFI + vTPM move, then reconcile: moved with the state, or clean', async (t) => {
  const count = new Lab({ teardown: () => {} }, { nvram: true, tpm: true });
  const counter = count.process('count');
  // The calls of the switch stage up to the end of carry-firmware: the source's stop and the carry, with the branches
  // run beside them (close-export, define-target, move-dhcp) interleaved (engine-crash covers the rest).
  const at: Record<string, number> = {};
  const push = counter.events.push.bind(counter.events);
  counter.events.push = (...events) => {
    for (const event of events) at[`${event.step}:${event.status}`] ??= counter.session.calls;
    return push(...events);
  };
  await migrateAndReboot(counter);
  await count.store.close();
  const first = (at['converge:done'] ?? 0) + 1;
  const last = at['carry-firmware:done'] ?? 0;
  t.true(last - first > 10, `window ${first}..${last}`);
  const phases = new Set<string>();
  const points = Array.from({ length: last - first + 1 }, (_, i) => first + i).flatMap((call) =>
    (['before', 'after'] as const).map((when) => ({ call, when })),
  );
  // Independent worlds, mostly waiting on timers: run at once.
  await Promise.all(
    points.map(async ({ call, when }) => {
      const lab = new Lab({ teardown: () => {} }, { nvram: true, tpm: true });
      const victim = lab.process('victim');
      victim.session.crashAtCall(call, when);
      t.is(await untilEndOrCrash(victim, migrateAndReboot(victim)), 'crashed');
      const record = await reconcileUntilQuiet(lab);
      assertNeverTwoCopies(t, lab);
      t.deepEqual(sourceWrites(lab, lab.guest.uuid), [], `${when} ${call}: the source firmware was written`);
      phases.add(record?.phase ?? 'none');
      if (record?.phase === 'done') {
        assertMoved(t, lab, record);
        assertCarried(t, lab, record);
      } else {
        t.deepEqual(
          firmwareState(lab.fake.host('dst'), lab.guest.uuid),
          {},
          `${when} ${call}: ${record?.phase}: copies left on the target`,
        );
      }
      await lab.store.close();
    }),
  );
  t.true(phases.has('done'), [...phases].join(', '));
});

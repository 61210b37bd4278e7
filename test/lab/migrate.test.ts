import test from 'ava';
import { assertGuestOn, domUuid, exportLeftovers, phaseOf, rehomeJson } from './helpers-migration.js';
import { labHttp } from './helpers-notify.js';
import { agentQuery, agentReboot, labSh } from './lab.js';
import { useMigrationLab } from './migration-lab.js';

const lab = useMigrationLab(test);

test.serial('a guest that reboots itself while `rehome watch` runs comes back on the target', async (t) => {
  const guest = await lab.bootedGuest('mv1');
  const uuid = await domUuid('lab-a', guest.name);
  const armed = await rehomeJson<{ phase: string; target: string }>(['migrate', guest.name, '--to', 'lab-b']);
  t.is(armed.phase, 'armed');
  // Observability on the way (issue 13): JSON event lines, /metrics and /healthz while armed and after the move.
  const watch = await lab.startRehome(['watch', '--json', '--serve', '127.0.0.1:9180']);
  await watch.waitForLog(/listening to lab-a/);
  const health = await labHttp('GET', 'http://127.0.0.1:9180/healthz');
  t.is(health.status, 200, health.body);
  t.like(JSON.parse(health.body), { ok: true, hosts: [{ host: 'lab-a', connected: true }] });
  const armedMetrics = (await labHttp('GET', 'http://127.0.0.1:9180/metrics')).body;
  t.regex(armedMetrics, /^rehome_vms_armed\{host="lab-a"\} 1$/m);
  t.regex(armedMetrics, /^rehome_libvirt_connection_up\{host="lab-a"\} 1$/m);
  t.regex(armedMetrics, /^rehome_mirrors\{state="armed"\} 1$/m);
  const before = await agentQuery(guest.ip);
  const since = Date.now();
  await agentReboot(guest.ip);
  // The watch's own event says when the move ended; then the store is asked once.
  await watch.waitForLog(/"event":"(done|rolled-back|failed)","vm":"mv1"/, 120_000);
  const phase = await phaseOf(guest.name);
  t.is(phase, 'done', await watch.log());
  const movedMetrics = (await labHttp('GET', 'http://127.0.0.1:9180/metrics')).body;
  t.regex(movedMetrics, /^rehome_cutover_duration_seconds_count\{outcome="done"\} 1$/m);
  t.regex(movedMetrics, /^rehome_pause_latency_seconds_count 1$/m);
  t.notRegex(movedMetrics, /^rehome_vms_armed\{host="lab-a"\} 1$/m, 'no longer armed');
  const events = (await watch.log())
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { event: string; vm?: string; at: string });
  t.deepEqual(
    events.filter((e) => e.vm === guest.name).map((e) => e.event),
    ['reboot-caught', 'paused', 'converged', 'target-started', 'done'],
  );
  t.true(events.every((e) => e.at.endsWith('Z')));
  await assertGuestOn(t, guest, 'lab-b', before.boot + 1);
  t.log(`guest reboot → agent answering on lab-b: ${Date.now() - since} ms`);
  t.is(await domUuid('lab-b', guest.name), uuid, 'same UUID on the target');
  t.is(await domUuid('lab-a', guest.name), undefined, 'the source domain is undefined');
  t.deepEqual(await exportLeftovers('lab-b', guest.name), {
    nbd: '',
    images: '/var/lib/libvirt/images/mv1-vda.qcow2',
  });
  t.log(
    (await watch.log())
      .split('\n')
      .filter((l) => l.includes('mv1'))
      .join('\n'),
  );
});

test.serial(
  '`rehome reboot VM` moves it now (while `watch` runs and leaves it to the reboot command)',
  async (t) => {
    const guest = await lab.bootedGuest('mv2');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    const watch = await lab.startRehome(['watch']);
    await watch.waitForLog(/listening to lab-a/);
    const before = await agentQuery(guest.ip);
    const result = await rehomeJson<{ outcome: string; pauseLatencyMs: number }>(['reboot', guest.name]);
    t.is(result.outcome, 'done');
    t.log(`pause latency ${result.pauseLatencyMs} ms`);
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);
    t.is(await domUuid('lab-a', guest.name), undefined);
    t.is((await exportLeftovers('lab-b', guest.name)).nbd, '');
  },
);

test.serial(
  '`cancel` leaves it on the source; a later reboot is in place (while `watch` runs); nothing left on the target',
  async (t) => {
    const guest = await lab.bootedGuest('mv3');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    const watch = await lab.startRehome(['watch']);
    await watch.waitForLog(/listening to lab-a/);
    t.not((await exportLeftovers('lab-b', guest.name)).images, '', 'the target image exists while armed');
    const cancelled = await rehomeJson<{ phase: string }>(['cancel', guest.name]);
    t.is(cancelled.phase, 'cancelled');
    t.deepEqual(await exportLeftovers('lab-b', guest.name), { nbd: '', images: '' });
    // watch may still list it as armed (its list is up to a refresh old): it must ask the store before acting.
    const before = await agentQuery(guest.ip);
    await agentReboot(guest.ip);
    await assertGuestOn(t, guest, 'lab-a', before.boot + 1);
    t.is(await domUuid('lab-b', guest.name), undefined);
  },
);

test.serial(
  'a target that cannot start the domain (its kernel file gone) → rolled back, running on the source',
  async (t) => {
    const guest = await lab.bootedGuest('mv4');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    // (Deleting br0 would cut the lab host's own uplink: it carries the host's address.)
    const kernel = '/var/lib/libvirt/boot/rehome-lab-vmlinuz';
    await labSh(['ssh', 'lab-b', `mv ${kernel} ${kernel}.gone`]);
    t.teardown(() => labSh(['ssh', 'lab-b', `mv ${kernel}.gone ${kernel}`]).then(() => undefined));
    const before = await agentQuery(guest.ip);
    const result = await rehomeJson<{ outcome: string; lastError: string | null }>(['reboot', guest.name], {
      reject: false,
    });
    t.is(result.outcome, 'rolled-back');
    t.log(result.lastError);
    await assertGuestOn(t, guest, 'lab-a', before.boot + 1);
    t.is(await domUuid('lab-b', guest.name), undefined, 'nothing defined on the target');
    t.deepEqual(await exportLeftovers('lab-b', guest.name), { nbd: '', images: '' });
    t.is(await phaseOf(guest.name), 'rolled-back');
  },
);

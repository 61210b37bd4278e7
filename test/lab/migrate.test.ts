import test from 'ava';
import {
  assertGuestOn,
  type Background,
  domUuid,
  exportLeftovers,
  phaseOf,
  rehomeJson,
  startRehome,
  waitForPhase,
} from './helpers-migration.js';
import {
  agentQuery,
  agentReboot,
  defineGuest,
  type LabGuest,
  labDown,
  labSh,
  labUp,
  waitForAgent,
} from './lab.js';

let watch: Background | undefined;

test.before('lab up', async () => {
  await labUp({ hosts: 2 });
});

test.after.always('lab down', async () => {
  await watch?.stop();
  await labDown();
});

async function bootedGuest(name: string): Promise<LabGuest> {
  const guest = await defineGuest(name, { host: 'lab-a' });
  await waitForAgent(guest.ip, { timeoutMs: 120_000 });
  return guest;
}

test.serial('a guest that reboots itself while `rehome watch` runs comes back on the target', async (t) => {
  const guest = await bootedGuest('mv1');
  const uuid = await domUuid('lab-a', guest.name);
  const armed = await rehomeJson<{ phase: string; target: string }>(['migrate', guest.name, '--to', 'lab-b']);
  t.is(armed.phase, 'armed');
  watch = await startRehome(['watch']);
  await watch.waitForLog(/listening to lab-a/);
  const before = await agentQuery(guest.ip);
  const since = Date.now();
  await agentReboot(guest.ip);
  t.is(await waitForPhase(guest.name, ['done', 'rolled-back', 'failed']), 'done', await watch.log());
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
    const guest = await bootedGuest('mv2');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
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
  '`cancel` leaves it on the source; a later reboot is in place; nothing left on the target',
  async (t) => {
    const guest = await bootedGuest('mv3');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    t.not((await exportLeftovers('lab-b', guest.name)).images, '', 'the target image exists while armed');
    const cancelled = await rehomeJson<{ phase: string }>(['cancel', guest.name]);
    t.is(cancelled.phase, 'cancelled');
    t.deepEqual(await exportLeftovers('lab-b', guest.name), { nbd: '', images: '' });
    const before = await agentQuery(guest.ip);
    await agentReboot(guest.ip);
    await assertGuestOn(t, guest, 'lab-a', before.boot + 1);
    t.is(await domUuid('lab-b', guest.name), undefined);
  },
);

test.serial(
  'a target that cannot start the domain (its kernel file gone) → rolled back, running on the source',
  async (t) => {
    await watch?.stop();
    watch = undefined;
    const guest = await bootedGuest('mv4');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    // (Deleting br0 would cut the lab host's own uplink: it carries the host's address.)
    await labSh(['ssh', 'lab-b', 'mv /var/lib/libvirt/boot/rehome-lab-vmlinuz /var/lib/libvirt/boot/gone']);
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
    await labSh(['ssh', 'lab-b', 'mv /var/lib/libvirt/boot/gone /var/lib/libvirt/boot/rehome-lab-vmlinuz']);
  },
);

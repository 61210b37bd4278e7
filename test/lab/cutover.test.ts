import test from 'ava';
import { assertGuestOn, phaseOf, rehomeJson, type StatusJson, waitForPhase } from './helpers-migration.js';
import { agentQuery, agentReboot } from './lab.js';
import { useMigrationLab } from './migration-lab.js';

const lab = useMigrationLab(test);

test.serial(
  'a reboot while no rehome process runs is in place; it stays armed and moves at its next reboot under watch',
  async (t) => {
    const guest = await lab.bootedGuest('cv1');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    const first = await agentQuery(guest.ip);
    await agentReboot(guest.ip);
    await assertGuestOn(t, guest, 'lab-a', first.boot + 1);
    t.is(await phaseOf(guest.name), 'armed', 'still armed after rebooting in place');
    const watch = await lab.startRehome(['watch']);
    await watch.waitForLog(/listening to lab-a/);
    // The target's connection is opened while armed, not while the guest is held paused.
    await watch.waitForLog(/connected to lab-b, the target of armed VMs/);
    const second = await agentQuery(guest.ip);
    await agentReboot(guest.ip);
    t.is(await waitForPhase(guest.name, ['done', 'rolled-back', 'failed']), 'done', await watch.log());
    await assertGuestOn(t, guest, 'lab-b', second.boot + 1);
    // What lets the target start before libvirt's destroy returns: the source QEMU's pid, read and checked on a real
    // host (libvirt's pid file, /proc). Without it the move still works, only slower: nothing else would notice.
    const history = (await rehomeJson<StatusJson>(['status', guest.name])).migrations.at(-1)?.history ?? [];
    const observed = history.find((entry) => entry.step === 'observe-source-qemu' && entry.outcome === 'ok');
    t.true(Number.isInteger(observed?.detail.pid), JSON.stringify(observed));
  },
);

test.serial(
  'a pause later than the bound is undone: the guest boots in place, nothing lost, still armed',
  async (t) => {
    const guest = await lab.bootedGuest('cv2');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    const watch = await lab.startRehome(['watch'], { REHOME_FAULT_PAUSE_DELAY_MS: '1500' });
    await watch.waitForLog(/listening to lab-a/);
    const before = await agentQuery(guest.ip);
    await agentReboot(guest.ip);
    await watch.waitForLog(/boots in place and stays armed/);
    await assertGuestOn(t, guest, 'lab-a', before.boot + 1);
    const status = await rehomeJson<StatusJson>(['status', guest.name]);
    t.is(status.migrations.at(-1)?.phase, 'armed');
    const latencies = status.migrations.at(-1)?.pauseLatenciesMs ?? [];
    t.true(latencies.length === 1 && (latencies[0] ?? 0) > 1000, JSON.stringify(latencies));
    t.is((await watch.stop()) ?? 0, 0, 'watch exits cleanly on SIGTERM');
  },
);

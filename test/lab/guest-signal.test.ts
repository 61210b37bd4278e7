import test, { type ExecutionContext } from 'ava';
import { assertGuestOn, exportLeftovers, rehomeJson } from './helpers-migration.js';
import { agentQuery, type LabGuest, labSh, readConsoleLog, virsh, waitForAgent } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { waitFor } from './run.js';

const CHANNEL = 'org.rehome.maintenance.0';

const lab = useMigrationLab(test);

/** A guest with a virtio-serial controller, as most real VMs have (libvirt cannot hot-plug one). */
async function guestWithController(name: string): Promise<LabGuest> {
  const guest = await lab.bootedGuest(name);
  await labSh(['ssh', 'lab-a', `cat > /tmp/${name}-vserial.xml`], {
    input: "<controller type='virtio-serial' index='0'/>\n",
  });
  await virsh('lab-a', ['attach-device', name, `/tmp/${name}-vserial.xml`, '--config']);
  await virsh('lab-a', ['destroy', name]);
  await virsh('lab-a', ['start', name]);
  await waitForAgent(guest.ip, { minBoot: 2, timeoutMs: 120_000 });
  return guest;
}

interface Signal {
  schema: string;
  state: string;
  vm: string;
  uuid: string;
  migration: string;
  deadline: string;
  at: string;
}

function signalsIn(consoleLog: string): Signal[] {
  return consoleLog
    .split(/\r?\n/)
    .filter((line) => line.startsWith('SIGNAL '))
    .map((line) => JSON.parse(line.slice('SIGNAL '.length)) as Signal);
}

async function waitForSignal(host: string, name: string, state: string): Promise<Signal> {
  try {
    return await waitFor(
      `a SIGNAL line with state ${state} on ${name}'s console`,
      async () => signalsIn(await readConsoleLog(host, name)).find((signal) => signal.state === state),
      20_000,
      200,
    );
  } catch (err) {
    const tail = (await readConsoleLog(host, name)).split(/\r?\n/).filter((line) => !line.startsWith('ACK '));
    throw new Error(
      `${(err as Error).message}; the console without ACK lines ends:\n${tail.slice(-12).join('\n')}`,
    );
  }
}

async function inactiveXml(host: string, name: string): Promise<string> {
  return (await virsh(host, ['dumpxml', '--inactive', name])).stdout;
}

async function liveXml(host: string, name: string): Promise<string> {
  return (await virsh(host, ['dumpxml', name])).stdout;
}

function assertScheduled(t: ExecutionContext, signal: Signal, name: string, deadline: string, id: string) {
  t.is(signal.schema, 'rehome.maintenance/v1');
  t.is(signal.vm, name);
  t.is(signal.deadline, new Date(deadline).toISOString());
  t.is(signal.migration, id);
}

test.serial('the guest reads scheduled, rescheduled and cancelled on its maintenance channel', async (t) => {
  const guest = await guestWithController('sig1');
  const deadline = new Date(Date.now() + 2 * 86_400_000).toISOString();
  const armed = await rehomeJson<{ id: string; phase: string; deadline: string }>([
    'migrate',
    guest.name,
    '--to',
    'lab-b',
    '--deadline',
    deadline,
  ]);
  t.is(armed.phase, 'armed');
  const scheduled = await waitForSignal('lab-a', guest.name, 'scheduled');
  assertScheduled(t, scheduled, guest.name, deadline, armed.id);
  t.regex(await liveXml('lab-a', guest.name), new RegExp(CHANNEL), 'the channel is hot-plugged');
  t.notRegex(await inactiveXml('lab-a', guest.name), new RegExp(CHANNEL), 'but not in the config');

  const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
  await rehomeJson(['reschedule', guest.name, '--deadline', later]);
  const rescheduled = await waitForSignal('lab-a', guest.name, 'rescheduled');
  t.is(rescheduled.deadline, new Date(later).toISOString());

  const cancelled = await rehomeJson<{ phase: string }>(['cancel', guest.name]);
  t.is(cancelled.phase, 'cancelled');
  const signal = await waitForSignal('lab-a', guest.name, 'cancelled');
  t.is(signal.migration, armed.id);
  t.is(signal.vm, guest.name);
  t.deepEqual(await exportLeftovers('lab-b', guest.name), { nbd: '', images: '' });
  t.notRegex(await inactiveXml('lab-a', guest.name), new RegExp(CHANNEL));
  t.log(signalsIn(await readConsoleLog('lab-a', guest.name)).map((s) => JSON.stringify(s)));
});

test.serial('the moved guest is defined on the target without the channel', async (t) => {
  const guest = await guestWithController('sig2');
  await rehomeJson(['migrate', guest.name, '--to', 'lab-b', '--deadline', '+1d']);
  await waitForSignal('lab-a', guest.name, 'scheduled');
  const before = await agentQuery(guest.ip);
  const result = await rehomeJson<{ outcome: string }>(['reboot', guest.name]);
  t.is(result.outcome, 'done');
  await assertGuestOn(t, guest, 'lab-b', before.boot + 1);
  t.notRegex(await inactiveXml('lab-b', guest.name), new RegExp(CHANNEL));
  t.notRegex(await liveXml('lab-b', guest.name), new RegExp(CHANNEL));
});

test.serial('a guest without a virtio-serial controller still moves; it just gets no signal', async (t) => {
  const guest = await lab.bootedGuest('sig3');
  const armed = await rehomeJson<{ phase: string }>(['migrate', guest.name, '--to', 'lab-b']);
  t.is(armed.phase, 'armed');
  t.notRegex(await liveXml('lab-a', guest.name), new RegExp(CHANNEL));
  const cancelled = await rehomeJson<{ phase: string }>(['cancel', guest.name]);
  t.is(cancelled.phase, 'cancelled');
  t.deepEqual(signalsIn(await readConsoleLog('lab-a', guest.name)), []);
});

import test from 'ava';
import {
  assertGuestOn,
  phaseOf,
  rehome,
  rehomeJson,
  startRehome,
  waitForPhase,
} from './helpers-migration.js';
import { agentQuery, agentReboot, defineGuest, labDown, labSh, labUp, waitForAgent } from './lab.js';
import { LAB_CERT_DIR } from './paths.js';

test.before('lab up', async () => {
  await labUp({ hosts: 2 });
});

test.after.always('lab down', async () => {
  await labDown();
});

interface Armed {
  exports: { address: string; port: number; exportName: string }[];
}

test.serial(
  'a plain NBD client without the certificate cannot read the export; one with it can',
  async (t) => {
    const guest = await defineGuest('sy1', { host: 'lab-a' });
    await waitForAgent(guest.ip);
    const armed = await rehomeJson<Armed>(['migrate', guest.name, '--to', 'lab-b']);
    const nbd = armed.exports[0];
    if (!nbd) throw new Error('no export');
    const plain = await labSh(
      ['ssh', 'lab-a', `qemu-img info nbd://${nbd.address}:${nbd.port}/${nbd.exportName}`],
      { reject: false },
    );
    t.not(plain.exitCode, 0);
    t.regex(plain.stderr, /TLS/i);
    const withCert = await labSh(
      [
        'ssh',
        'lab-a',
        `qemu-img info --object tls-creds-x509,id=tls0,endpoint=client,dir=${LAB_CERT_DIR} --image-opts driver=nbd,host=${nbd.address},port=${nbd.port},export=${nbd.exportName},tls-creds=tls0`,
      ],
      { reject: false },
    );
    t.is(withCert.exitCode, 0, withCert.stderr);
    await rehome(['cancel', guest.name]);
  },
);

test.serial('a reboot before the mirror is ready is in place; the move goes on afterwards', async (t) => {
  const guest = await defineGuest('sy2', { host: 'lab-a' });
  await waitForAgent(guest.ip);
  const migrate = await startRehome(['migrate', guest.name, '--to', 'lab-b', '--bandwidth', '16M']);
  await waitForPhase(guest.name, ['mirroring'], 60_000);
  const before = await agentQuery(guest.ip);
  await agentReboot(guest.ip);
  await assertGuestOn(t, guest, 'lab-a', before.boot + 1);
  t.is(await phaseOf(guest.name), 'mirroring', 'the mirror was not ready when the guest rebooted');
  t.is(await migrate.exited, 0, await migrate.log());
  t.is(await phaseOf(guest.name), 'armed');
  const result = await rehomeJson<{ outcome: string }>(['reboot', guest.name]);
  t.is(result.outcome, 'done');
  await assertGuestOn(t, guest, 'lab-b', before.boot + 2);
});

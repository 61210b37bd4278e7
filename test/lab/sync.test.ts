import test from 'ava';
import {
  assertGuestOn,
  phaseEnteredAt,
  phaseOf,
  rehome,
  rehomeJson,
  waitForPhase,
} from './helpers-migration.js';
import { agentQuery, agentReboot, labSh } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { LAB_CERT_DIR } from './paths.js';

const lab = useMigrationLab(test);

interface Armed {
  exports: { address: string; port: number; exportName: string }[];
}

test.serial(
  'a plain NBD client without the certificate cannot read the export; one with it can',
  async (t) => {
    const guest = await lab.bootedGuest('sy1');
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
  const guest = await lab.bootedGuest('sy2');
  const migrate = await lab.startRehome(['migrate', guest.name, '--to', 'lab-b', '--bandwidth', '16M']);
  await waitForPhase(guest.name, ['mirroring'], 60_000);
  const before = await agentQuery(guest.ip);
  await agentReboot(guest.ip);
  const rebootAskedBy = Date.now();
  await assertGuestOn(t, guest, 'lab-a', before.boot + 1);
  t.is(await migrate.exited, 0, await migrate.log());
  t.is(await phaseOf(guest.name), 'armed');
  // Asked by the history, not by the phase once the guest is back: under load its reboot can outlast the copy.
  const armedAt = (await phaseEnteredAt(guest.name, 'armed')) ?? Number.NaN;
  t.true(rebootAskedBy < armedAt, 'the guest rebooted before the mirror was ready');
  const result = await rehomeJson<{ outcome: string }>(['reboot', guest.name]);
  t.is(result.outcome, 'done');
  await assertGuestOn(t, guest, 'lab-b', before.boot + 2);
});

import test from 'ava';
import { assertGuestOn, phaseEnteredAt, phaseOf, rehomeJson, waitForPhase } from './helpers-migration.js';
import { agentQuery, agentReboot, labSh } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { LAB_CERT_DIR } from './paths.js';

const lab = useMigrationLab(test);

interface Armed {
  exports: { address: string; port: number; exportName: string }[];
}

test.serial(
  "while armed the export serves the mirror alone: no second client, even with the source's certificate",
  async (t) => {
    const guest = await lab.bootedGuest('sy1');
    const armed = await rehomeJson<Armed>(['migrate', guest.name, '--to', 'lab-b']);
    const nbd = armed.exports[0];
    if (!nbd) throw new Error('no export');
    // qemu-nbd --shared=1 does not even start the handshake of a second client: it waits, so bound it.
    const second = await labSh(
      [
        'ssh',
        'lab-a',
        `timeout 5 qemu-img info --object tls-creds-x509,id=tls0,endpoint=client,dir=${LAB_CERT_DIR} --image-opts driver=nbd,host=${nbd.address},port=${nbd.port},export=${nbd.exportName},tls-creds=tls0`,
      ],
      { reject: false },
    );
    t.not(second.exitCode, 0, second.stdout);
    // The mirror itself is untouched by the attempt: the move still completes.
    const result = await rehomeJson<{ outcome: string }>(['reboot', guest.name]);
    t.is(result.outcome, 'done');
  },
);

test.serial('a reboot before the mirror is ready is in place; the move goes on afterwards', async (t) => {
  // The budget counts only data: 96 MiB of it at 6 MiB/s keep the copy going for about 16 s.
  const guest = await lab.bootedDataGuest('sy2');
  const migrate = await lab.startRehome(['migrate', guest.name, '--to', 'lab-b', '--bandwidth', '6M']);
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

/**
 * vagrant/Vagrantfile brought up for real, once: one host (vg-a) from the lab's box, by vagrant-libvirt against
 * lab-a's libvirtd under TCG (test/lab/vagrant.ts). The lab has no route out, so the Vagrantfile's own provisioning
 * (packages, br0, the shared test/lab/provision-host.sh) must run without a network. Then, as a user would: libvirtd
 * and sshd answer inside it, and `rehome hosts add` + `rehome inventory` from the operator namespace see it.
 */
import test from 'ava';
import type { InventoryResult } from '../../commands/inventory.js';
import { labDown, labSh, labUp } from './lab.js';
import { VAGRANT_HOST, VAGRANT_HOST_ADDRESS, vagrantHostDown, vagrantHostUp } from './vagrant.js';

test.before('lab up', async () => {
  await labUp({ hosts: 1 });
});
test.after.always('vagrant destroy, lab down', async () => {
  await vagrantHostDown();
  await labDown();
});

async function onVagrantHost(command: string): Promise<string> {
  const { stdout } = await labSh(['ssh', VAGRANT_HOST, command], { timeoutMs: 60_000 });
  return stdout.trim();
}

test.serial(
  'a host of vagrant/Vagrantfile comes up under TCG, provisions without a network, and rehome inventories it',
  async (t) => {
    t.timeout(20 * 60_000);
    const started = Date.now();
    const timings = await vagrantHostUp((line) => t.log(line));
    t.log(
      `box ${timings.boxMs} ms, box add ${timings.addMs} ms, vagrant up ${timings.upMs} ms, total ${Date.now() - started} ms`,
    );

    // The shared provisioning ran: host name, br0 with the lab address, the fleet certificates, qemu.conf.
    t.is(await onVagrantHost('hostname'), VAGRANT_HOST);
    t.regex(await onVagrantHost('ip -o -4 addr show dev br0'), new RegExp(` ${VAGRANT_HOST_ADDRESS}/24 `));
    t.is(
      await onVagrantHost('ls /etc/pki/qemu'),
      'ca-cert.pem\nclient-cert.pem\nclient-key.pem\nserver-cert.pem\nserver-key.pem',
    );
    t.regex(
      await onVagrantHost('cat /etc/libvirt/qemu.conf'),
      /^nbd_tls_x509_cert_dir = "\/etc\/pki\/qemu"$/m,
    );
    // libvirtd and sshd answer (this very command came in through sshd, as root with the fleet operator key).
    t.is(await onVagrantHost('systemctl is-active libvirtd ssh'), 'active\nactive');
    t.regex(await onVagrantHost('virsh -c qemu:///system version'), /Running hypervisor: QEMU \d+/);

    const added = await labSh(
      [
        'rehome',
        'hosts',
        'add',
        VAGRANT_HOST,
        '--address',
        VAGRANT_HOST,
        '--image-dir',
        '/var/lib/libvirt/images',
      ],
      { reject: false },
    );
    t.is(added.exitCode, 0, added.stderr);
    const { stdout, stderr, exitCode } = await labSh(['rehome', 'inventory', VAGRANT_HOST, '--json'], {
      reject: false,
      timeoutMs: 300_000,
    });
    t.is(exitCode, 0, `${stdout}\n${stderr}`);
    const [host] = (JSON.parse(stdout) as InventoryResult).hosts;
    if (!host?.ok) return t.fail(`inventory of ${VAGRANT_HOST}: ${JSON.stringify(host)}`);
    t.is(host.name, VAGRANT_HOST);
    t.is(host.hostname, VAGRANT_HOST);
    t.true(host.bridges.includes('br0'), host.bridges.join(' '));
    t.true(
      host.libvirtVersion.major >= 9 && host.qemuVersion.major >= 7,
      `${host.libvirtVersion.text} ${host.qemuVersion.text}`,
    );
    t.log(
      `inventory: libvirt ${host.libvirtVersion.text}, QEMU ${host.qemuVersion.text}, ${host.cores} cores, ${Math.round(host.memoryKiB / 1024)} MiB`,
    );
  },
);

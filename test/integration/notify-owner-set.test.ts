import net from 'node:net';
import test from 'ava';
import { RehomeError } from '../../src/errors.js';
import { DomainXml } from '../../src/libvirt/domain-xml.js';
import { DomainXmlFlags, LibvirtClient } from '../../src/libvirt/index.js';
import { REHOME_METADATA_NS, readOwnerMetadata } from '../../src/notify/owner-metadata.js';
import { setVmOwner } from '../../src/notify/owner-set.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from './helpers/private-libvirtd.js';

let libvirtd: PrivateLibvirtd | undefined;
let client: LibvirtClient | undefined;

test.before(async () => {
  libvirtd = await startPrivateLibvirtd();
  const socket = net.connect(libvirtd.socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  client = await LibvirtClient.open(socket);
});

test.after.always(async () => {
  await client?.close().catch(() => undefined);
  await libvirtd?.stop();
});

function lv(): LibvirtClient {
  if (!client) throw new Error('libvirtd not started');
  return client;
}

const domainXml = (name: string) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><console type='pty'/></devices>
</domain>`;

test.serial(
  'sets the owner through set-metadata: config when stopped, live and config when running',
  async (t) => {
    const domain = await lv().defineDomainXml(domainXml('owner-vm'));
    try {
      const stopped = await setVmOwner({
        vm: 'owner-vm',
        address: 'alice@example.net',
        timeZone: 'europe/paris',
        hosts: ['kvm1'],
        connect: async () => lv(),
      });
      t.like(stopped, { vm: 'owner-vm', uuid: domain.uuid, host: 'kvm1', applied: ['config'] });
      t.deepEqual(stopped.owner, { address: 'alice@example.net', timeZone: 'Europe/Paris' });
      const inactive = await lv().getDomainXml(domain, DomainXmlFlags.inactive);
      t.true(inactive.includes(`xmlns:rehome="${REHOME_METADATA_NS}"`));
      t.is(DomainXml.parse(inactive).owner, 'alice@example.net');
      t.deepEqual(readOwnerMetadata(inactive), { address: 'alice@example.net', timeZone: 'Europe/Paris' });
      const element = await lv().getMetadataElement(domain, REHOME_METADATA_NS, 2);
      t.deepEqual(readOwnerMetadata(element), { address: 'alice@example.net', timeZone: 'Europe/Paris' });

      const running = await lv().createDomain(domain);
      try {
        const live = await setVmOwner({
          vm: 'owner-vm',
          address: 'b@example.net',
          hosts: ['kvm1'],
          host: 'kvm1',
          connect: async () => lv(),
        });
        t.deepEqual(live.applied, ['config', 'live']);
        t.deepEqual(readOwnerMetadata(await lv().getDomainXml(running)), { address: 'b@example.net' });
        t.deepEqual(readOwnerMetadata(await lv().getDomainXml(running, DomainXmlFlags.inactive)), {
          address: 'b@example.net',
        });
      } finally {
        await lv().destroyDomain(running);
      }
    } finally {
      await lv().undefineDomain(domain);
    }
  },
);

test.serial('a VM on no host, or on several, is an error; unreachable hosts are reported', async (t) => {
  const domain = await lv().defineDomainXml(domainXml('owner-vm-2'));
  try {
    const missing = await t.throwsAsync(
      setVmOwner({ vm: 'nope', address: 'a@b', hosts: ['kvm1', 'down'], connect: connectOrFail }),
      { instanceOf: RehomeError, message: /not defined on any configured host \(unreachable: down\)/ },
    );
    t.is(missing?.kind, 'not-found');
    await t.throwsAsync(
      setVmOwner({ vm: 'owner-vm-2', address: 'a@b', hosts: ['kvm1', 'kvm2'], connect: async () => lv() }),
      { message: /defined on several hosts: kvm1, kvm2/ },
    );
    const result = await setVmOwner({
      vm: 'owner-vm-2',
      address: 'a@b',
      hosts: ['kvm1', 'down'],
      connect: connectOrFail,
    });
    t.deepEqual(result.unreachable, [{ host: 'down', error: 'connect ECONNREFUSED' }]);
    await t.throwsAsync(
      setVmOwner({
        vm: 'owner-vm-2',
        address: 'a@b',
        timeZone: 'Mars/Olympus',
        hosts: ['kvm1'],
        connect: async () => lv(),
      }),
      { message: /Unknown time zone/ },
    );
  } finally {
    await lv().undefineDomain(domain);
  }
});

async function connectOrFail(host: string): Promise<LibvirtClient> {
  if (host === 'down') throw new Error('connect ECONNREFUSED');
  return lv();
}

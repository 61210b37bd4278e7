import { truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import {
  BlockCopyFlags,
  BlockJobStatus,
  BlockJobType,
  blockCopyParams,
  CpuCompareResult,
  DomainAffect,
  DomainEventId,
  DomainState,
  DomainXmlFlags,
  LibvirtClient,
  LibvirtError,
  LibvirtErrorCode,
  type LibvirtEvent,
  LifecycleAction,
  LifecycleEvent,
  LifecycleType,
  NetworkUpdateCommand,
  NetworkUpdateFlags,
  NetworkUpdateSection,
  ShutdownMode,
  UndefineFlags,
} from '../../src/libvirt/index.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from './helpers/private-libvirtd.js';

let libvirtd: PrivateLibvirtd | undefined;
const clients: LibvirtClient[] = [];

test.before(async () => {
  libvirtd = await startPrivateLibvirtd();
});

test.after.always(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await libvirtd?.stop();
});

async function connect(options: Parameters<typeof LibvirtClient.open>[1] = {}): Promise<LibvirtClient> {
  if (!libvirtd) throw new Error('libvirtd not started');
  const socket = net.connect(libvirtd.socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const client = await LibvirtClient.open(socket, options);
  clients.push(client);
  return client;
}

function domainXml(name: string, uuid?: string, devices = ''): string {
  // No kernel: SeaBIOS finds nothing to boot and idles, which is all these tests need.
  return `<domain type='qemu'>
  <name>${name}</name>${uuid ? `\n  <uuid>${uuid}</uuid>` : ''}
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <features><acpi/></features>
  <devices><console type='pty'/>${devices}</devices>
</domain>`;
}

function waitForEvent(
  client: LibvirtClient,
  match: (event: LibvirtEvent) => boolean,
  timeoutMs = 20_000,
): Promise<LibvirtEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('event not received in time'));
    }, timeoutMs);
    const unsubscribe = client.onEvent((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

test('handshake, host facts and capabilities', async (t) => {
  const client = await connect();
  t.is(typeof (await client.getHostname()), 'string');
  const version = await client.getLibVersion();
  t.deepEqual([version.major, version.minor], [9, 0]);
  const qemu = await client.getHypervisorVersion();
  t.true(qemu.major >= 5);
  const info = await client.getNodeInfo();
  t.true(info.cpus >= 1);
  t.true(info.memoryKiB > 1024 * 1024);
  t.is(info.model, 'x86_64');
  const free = await client.getNodeFreeMemory();
  t.true(free > 0n && free < BigInt(info.memoryKiB) * 1024n);
  const caps = await client.getCapabilities();
  t.true(caps.includes('<host>'));
});

test('define, list, lookup, XML, state, lifecycle action, undefine', async (t) => {
  const client = await connect();
  const uuid = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
  const defined = await client.defineDomainXml(domainXml('rehome-it-define', uuid));
  t.is(defined.name, 'rehome-it-define');
  t.is(defined.uuid, uuid);
  t.is(defined.id, -1);

  const all = await client.listAllDomains();
  t.true(all.some((d) => d.uuid === uuid));
  t.deepEqual(await client.lookupDomainByName('rehome-it-define'), defined);
  t.deepEqual(await client.lookupDomainByUuid(uuid), defined);
  const xml = await client.getDomainXml(defined, DomainXmlFlags.inactive);
  t.true(xml.includes(`<uuid>${uuid}</uuid>`));
  t.deepEqual((await client.getDomainState(defined)).state, DomainState.shutoff);

  await client.setLifecycleAction(
    defined,
    LifecycleType.reboot,
    LifecycleAction.destroy,
    DomainAffect.config,
  );
  t.regex(await client.getDomainXml(defined, DomainXmlFlags.inactive), /<on_reboot>destroy<\/on_reboot>/);

  await client.undefineDomain(defined, UndefineFlags.nvram);
  t.false((await client.listAllDomains()).some((d) => d.uuid === uuid));
});

test('a missing domain is a LibvirtError with VIR_ERR_NO_DOMAIN', async (t) => {
  const client = await connect();
  const error = await t.throwsAsync(client.lookupDomainByName('no-such-domain-here'), {
    instanceOf: LibvirtError,
  });
  t.is(error?.code, LibvirtErrorCode.noDomain);
  t.regex(error?.message ?? '', /no-such-domain-here/);
  // the connection still works after an error
  t.truthy(await client.getHostname());
});

test('start and destroy a domain: lifecycle events, QEMU monitor, suspend/resume', async (t) => {
  const client = await connect();
  const domain = await client.defineDomainXml(domainXml('rehome-it-run'));
  const callbackIds = await client.registerStandardDomainEvents();
  t.is(callbackIds.length, 3);
  const qemuCallback = await client.registerQemuMonitorEvent(null, 'STOP');

  const started = waitForEvent(
    client,
    (e) => e.kind === 'lifecycle' && e.domain.uuid === domain.uuid && e.event === LifecycleEvent.started,
  );
  const running = await client.createDomain(domain);
  t.true(running.id > 0);
  t.like(await started, { kind: 'lifecycle', domain: { name: 'rehome-it-run', id: running.id } });
  t.is((await client.getDomainState(running)).state, DomainState.running);

  const status = JSON.parse(await client.qemuMonitorCommand(running, '{"execute":"query-status"}'));
  t.is(status.return.status, 'running');

  const qmpStop = waitForEvent(client, (e) => e.kind === 'qemu-monitor' && e.domain.uuid === domain.uuid);
  const suspended = waitForEvent(
    client,
    (e) => e.kind === 'lifecycle' && e.domain.uuid === domain.uuid && e.event === LifecycleEvent.suspended,
  );
  await client.suspendDomain(running);
  t.like(await qmpStop, { kind: 'qemu-monitor', event: 'STOP' });
  await suspended;
  t.is((await client.getDomainState(running)).state, DomainState.paused);
  await client.resumeDomain(running);
  await client.deregisterQemuMonitorEvent(qemuCallback);

  // SeaBIOS ignores the power button; these only prove the calls' wire shapes are accepted.
  await client.shutdownDomain(running, ShutdownMode.acpiPowerButton);
  await client.rebootDomain(running, ShutdownMode.acpiPowerButton);
  t.is((await client.getDomainState(running)).state, DomainState.running);

  t.is(
    await client.getBlockJobInfo(running, 'vda').catch((e: LibvirtError) => e.code),
    LibvirtErrorCode.invalidArg,
  );

  const stopped = waitForEvent(
    client,
    (e) => e.kind === 'lifecycle' && e.domain.uuid === domain.uuid && e.event === LifecycleEvent.stopped,
  );
  await client.destroyDomain(running);
  t.like(await stopped, { kind: 'lifecycle', domain: { name: 'rehome-it-run' } });
  t.is((await client.getDomainState(domain)).state, DomainState.shutoff);

  for (const id of callbackIds) await client.deregisterDomainEvent(id);
  await client.undefineDomain(domain);
});

test('reboot event after a guest reset through the monitor', async (t) => {
  const client = await connect();
  const domain = await client.createDomain(await client.defineDomainXml(domainXml('rehome-it-reboot')));
  const id = await client.registerDomainEvent(DomainEventId.reboot, domain);
  const reboot = waitForEvent(client, (e) => e.kind === 'reboot');
  await client.qemuMonitorCommand(domain, '{"execute":"system_reset"}');
  t.like(await reboot, { kind: 'reboot', callbackId: id, domain: { uuid: domain.uuid } });
  await client.destroyDomain(domain);
  await client.undefineDomain(domain);
});

test('networks: define, list, XML, DHCP host update in the config, undefine', async (t) => {
  const client = await connect();
  t.is(
    await client.lookupNetworkByName('nope').catch((e: LibvirtError) => e.code),
    LibvirtErrorCode.noNetwork,
  );
  const network = await client.defineNetworkXml(`<network>
  <name>rehome-it-net</name>
  <bridge name='rhit0'/>
  <ip address='10.250.0.1' netmask='255.255.255.0'>
    <dhcp><range start='10.250.0.100' end='10.250.0.200'/></dhcp>
  </ip>
</network>`);
  t.deepEqual(await client.lookupNetworkByName('rehome-it-net'), network);
  t.true((await client.listAllNetworks()).some((n) => n.uuid === network.uuid));

  const host = "<host mac='52:54:00:aa:bb:cc' name='guest1' ip='10.250.0.42'/>";
  await client.updateNetwork(
    network,
    NetworkUpdateCommand.addLast,
    NetworkUpdateSection.ipDhcpHost,
    host,
    NetworkUpdateFlags.config,
  );
  t.regex(
    await client.getNetworkXml(network, 1),
    /<host mac='52:54:00:aa:bb:cc' name='guest1' ip='10.250.0.42'\/>/,
  );
  await client.updateNetwork(
    network,
    NetworkUpdateCommand.delete,
    NetworkUpdateSection.ipDhcpHost,
    host,
    NetworkUpdateFlags.config,
  );
  t.notRegex(await client.getNetworkXml(network, 1), /52:54:00:aa:bb:cc/);
  await client.undefineNetwork(network);
  t.false((await client.listAllNetworks()).some((n) => n.uuid === network.uuid));
});

test('storage pool lookup of a missing pool', async (t) => {
  const client = await connect();
  t.is(
    await client.lookupStoragePoolByName('nope').catch((e: LibvirtError) => e.code),
    LibvirtErrorCode.noStoragePool,
  );
});

test('compare hypervisor CPU', async (t) => {
  const client = await connect();
  const result = await client.compareHypervisorCpu(
    "<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>",
    { virttype: 'qemu', arch: 'x86_64' },
  );
  t.true(
    (
      [CpuCompareResult.incompatible, CpuCompareResult.identical, CpuCompareResult.superset] as number[]
    ).includes(result),
  );
  await t.throwsAsync(client.compareHypervisorCpu('<cpu><model>no-such-model</model></cpu>', {}, 1), {
    instanceOf: LibvirtError,
  });
});

test('keepalive: libvirtd answers our pings, so a quiet connection stays up', async (t) => {
  // Bounds loose enough for a loaded CI machine: 1.5 s without a reply fails the connection; the test waits 2 s.
  const client = await connect({ keepalive: { intervalMs: 250, count: 6 } });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  t.false(client.connection.closed);
  t.truthy(await client.getHostname());
});

test('block copy with typed params to ready, job info, abort; NIC link state through update device', async (t) => {
  if (!libvirtd) throw new Error('libvirtd not started');
  // The scratch lib dir is /var/lib/libvirt inside the daemon's mount namespace.
  const image = path.join(libvirtd.scratchDir, 'lib/images/rehome-it-copy.img');
  writeFileSync(image, '');
  truncateSync(image, 16 * 1024 * 1024);
  const nic = (state: string) =>
    `<interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/><link state='${state}'/></interface>`;
  const client = await connect();
  const domain = await client.createDomain(
    await client.defineDomainXml(
      domainXml(
        'rehome-it-copy',
        undefined,
        `<disk type='file' device='disk'><driver name='qemu' type='raw'/>
          <source file='/var/lib/libvirt/images/rehome-it-copy.img'/><target dev='vda' bus='virtio'/></disk>${nic('up')}`,
      ),
    ),
  );
  await client.registerStandardDomainEvents(domain);

  await client.updateDevice(domain, nic('down'), DomainAffect.live);
  t.regex(await client.getDomainXml(domain), /<link state='down'\/>/);

  const ready = waitForEvent(client, (e) => e.kind === 'block-job' && e.status === BlockJobStatus.ready);
  await client.blockCopy(
    domain,
    'vda',
    "<disk type='file'><driver type='raw'/><source file='/var/lib/libvirt/images/rehome-it-copy-dest.img'/></disk>",
    blockCopyParams({ bandwidth: 512n * 1024n * 1024n, bufSize: 1024n * 1024n }),
    BlockCopyFlags.transientJob,
  );
  t.like(await ready, {
    kind: 'block-job',
    disk: 'vda',
    type: BlockJobType.copy,
    domain: { uuid: domain.uuid },
  });
  const info = await client.getBlockJobInfo(domain, 'vda');
  t.is(info?.type, BlockJobType.copy);
  t.is(info?.cur, info?.end);
  t.true((info?.end ?? 0n) > 0n);

  const ended = waitForEvent(client, (e) => e.kind === 'block-job' && e.status !== BlockJobStatus.ready);
  await client.blockJobAbort(domain, 'vda');
  t.like(await ended, { kind: 'block-job', disk: 'vda' });
  t.is(await client.getBlockJobInfo(domain, 'vda'), null);

  await client.destroyDomain(domain);
  await client.undefineDomain(domain);
});

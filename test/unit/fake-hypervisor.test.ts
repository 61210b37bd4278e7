import test from 'ava';
import { exportEmptyImage, FakeHypervisor } from '../fake/index.js';
import {
  DomainEventId,
  DomainState,
  LibvirtError,
  LibvirtErrorCode,
  type LibvirtEvent,
  observe,
} from '../fake/src-imports.js';

const vm = {
  name: 'vm1',
  uuid: '6f1e1c2a-0d3b-4b7e-9a51-3c0d2e4f5a61',
  disks: [{ dev: 'vda', path: '/img/vm1-vda.qcow2', virtualSize: 1 << 20 }],
  nics: [{ mac: '52:54:00:00:00:01' }],
};

function world() {
  const fake = new FakeHypervisor();
  fake.addHost('a');
  fake.addHost('b');
  fake.addGuest('a', vm);
  const session = fake.session('test');
  return { fake, session, ref: { name: vm.name, uuid: vm.uuid, id: -1 } };
}

async function libvirtCode(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    return err instanceof LibvirtError ? err.code : String(err);
  }
}

test('lookups of an unknown domain fail with noDomain (42), as libvirtd says it', async (t) => {
  const { session } = world();
  const client = await session.hosts.libvirt('b');
  t.is(await libvirtCode(client.lookupDomainByName('vm1')), LibvirtErrorCode.noDomain);
  t.is(await libvirtCode(client.lookupDomainByUuid(vm.uuid)), LibvirtErrorCode.noDomain);
});

test('states move as libvirt moves them; suspend and resume are idempotent, a stopped domain refuses them', async (t) => {
  const { session, ref } = world();
  const client = await session.hosts.libvirt('a');
  const state = async () => (await client.getDomainState(ref)).state;
  t.is(await state(), DomainState.running);
  await client.suspendDomain(ref);
  await client.suspendDomain(ref);
  t.is(await state(), DomainState.paused);
  await client.resumeDomain(ref);
  await client.resumeDomain(ref);
  t.is(await state(), DomainState.running);
  await client.destroyDomain(ref);
  t.is(await state(), DomainState.shutoff);
  t.is(await libvirtCode(client.suspendDomain(ref)), LibvirtErrorCode.operationInvalid);
  t.is(await libvirtCode(client.destroyDomain(ref)), LibvirtErrorCode.operationInvalid);
  await client.undefineDomain(ref);
  t.is(await libvirtCode(client.getDomainState(ref)), LibvirtErrorCode.noDomain);
});

test('undefining a running domain makes it transient: it disappears when destroyed', async (t) => {
  const { fake, session, ref } = world();
  const client = await session.hosts.libvirt('a');
  await client.undefineDomain(ref);
  t.deepEqual(fake.whereIs(vm.uuid), [{ host: 'a', state: 'running', persistent: false }]);
  await client.destroyDomain(ref);
  t.deepEqual(fake.whereIs(vm.uuid), []);
});

test('starting the same guest on a second host is recorded as a violation', async (t) => {
  const { fake, session } = world();
  const b = await session.hosts.libvirt('b');
  fake.host('b').files.set('/img/vm1-vda.qcow2', { kind: 'image', virtualSize: 1 << 20, data: 'x' });
  const defined = await b.defineDomainXml(fake.host('a').domainByUuid(vm.uuid)?.xml ?? '');
  await b.createDomain(defined);
  t.is(fake.violations.length, 1);
});

test('a start fails while qemu-nbd still holds the image, and when the image is missing', async (t) => {
  const { fake, session } = world();
  const b = await session.hosts.libvirt('b');
  const shell = await session.hosts.ssh('b');
  const ref = await b.defineDomainXml(fake.host('a').domainByUuid(vm.uuid)?.xml ?? '');
  t.is(await libvirtCode(b.createDomain(ref)), 38);
  await exportEmptyImage(shell, '/img/vm1-vda.qcow2');
  t.is(await libvirtCode(b.createDomain(ref)), LibvirtErrorCode.internalError);
  const pid = (await shell.exec(['cat', '/run/e1.pid'])).stdout.trim();
  await shell.exec(['kill', '-TERM', pid]);
  t.is(await libvirtCode(b.createDomain(ref)), 'ok');
});

test('a block copy needs a live export of the same size; it converges, copies the data, and vanishes with its export', async (t) => {
  const { fake, session, ref } = world();
  fake.mirrorBytesPerPoll = 1 << 19;
  const a = await session.hosts.libvirt('a');
  const shell = await session.hosts.ssh('b');
  const dest =
    "<disk type='network'><source protocol='nbd' name='e1' tls='yes'><host name='10.0.0.2' port='10809'/></source></disk>";
  t.is(await libvirtCode(a.blockCopy(ref, 'vda', dest)), LibvirtErrorCode.internalError);
  await exportEmptyImage(shell, '/t/vda.qcow2');
  await a.blockCopy(ref, 'vda', dest);
  t.is(await libvirtCode(a.blockCopy(ref, 'vda', dest)), LibvirtErrorCode.operationInvalid);
  t.is((await a.getBlockJobInfo(ref, 'vda'))?.cur, 1n << 19n);
  t.is((await a.getBlockJobInfo(ref, 'vda'))?.cur, 1n << 20n);
  t.is(fake.host('b').image('/t/vda.qcow2')?.data, 'vm1:vda:v0');
  fake.guestWrites('a', 'vm1', 'vda', 'v1');
  const dirty = await a.getBlockJobInfo(ref, 'vda');
  t.true((dirty?.cur ?? 0n) < (dirty?.end ?? 0n));
  fake.killProcess('b', Number((await shell.exec(['cat', '/run/e1.pid'])).stdout));
  t.is(await a.getBlockJobInfo(ref, 'vda'), null);
  t.is(await libvirtCode(a.blockJobAbort(ref, 'vda')), LibvirtErrorCode.invalidArg);
});

test('events reach each registration that matches, once per registration', async (t) => {
  const { fake, session, ref } = world();
  const client = await session.hosts.libvirt('a');
  const seen: LibvirtEvent[] = [];
  client.onEvent((event) => seen.push(event));
  await client.registerDomainEvent(DomainEventId.reboot, null);
  await client.registerDomainEvent(DomainEventId.reboot, ref);
  await client.registerDomainEvent(DomainEventId.lifecycle, null);
  await fake.guestReboots('a', 'vm1', { events: 2, spacingMs: 0 });
  t.is(seen.filter((e) => e.kind === 'reboot').length, 4);
  await client.suspendDomain(ref);
  t.is(seen.filter((e) => e.kind === 'lifecycle').length, 1);
});

test('failures on demand: the next call fails once, with the given error, on the given host only', async (t) => {
  const { fake, session, ref } = world();
  const a = await session.hosts.libvirt('a');
  fake.failNext('suspendDomain', undefined, { host: 'b' });
  fake.failNext('suspendDomain');
  t.is(await libvirtCode(a.suspendDomain(ref)), LibvirtErrorCode.internalError);
  t.is(await libvirtCode(a.suspendDomain(ref)), 'ok');
  const shell = await session.hosts.ssh('a');
  fake.failNext('qemu-img', new Error('disk full'));
  t.is((await shell.exec(['qemu-img', 'create', '-q', '-f', 'qcow2', '/x', '1'])).code, 1);
});

test('an unreachable host refuses new connections and closes open ones', async (t) => {
  const { fake, session, ref } = world();
  const a = await session.hosts.libvirt('a');
  let closed = false;
  a.onClose(() => {
    closed = true;
  });
  fake.setReachable('a', false);
  t.true(closed);
  await t.throwsAsync(a.getDomainState(ref));
  await t.throwsAsync(session.hosts.libvirt('a'));
});

test('a crashed session never hears back, before or after its call acts', async (t) => {
  const { fake, session, ref } = world();
  const a = await session.hosts.libvirt('a');
  session.crashAtCall(1, 'after');
  const pending = a.suspendDomain(ref);
  const outcome = await Promise.race([
    pending.then(() => 'answered'),
    new Promise((r) => setTimeout(() => r('hung'), 20)),
  ]);
  t.is(outcome, 'hung');
  t.is(fake.host('a').domainByUuid(vm.uuid)?.state, 'paused');
});

test('observe() sees the fake the way it sees real hosts', async (t) => {
  const { session } = world();
  const ctx = {
    record: { sourceHost: 'a', targetHost: 'b', vmUuid: vm.uuid },
    hosts: session.hosts,
    job: { disks: [{ target: 'vda' }], exports: [] },
    domain: { name: vm.name, uuid: vm.uuid, id: -1 },
  };
  t.deepEqual(await observe(ctx as never), {
    source: 'running',
    target: 'missing',
    jobs: false,
    exportsAlive: false,
  });
});

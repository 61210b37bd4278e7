/** The domain XMLs captured from the lab (`virsh dumpxml`, running and --inactive): round trip and classification. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { type DiskPolicyOptions, decideDisks, diskClassOf } from '../../src/disks/policy.js';
import type { DiskInfo } from '../../src/libvirt/domain-xml.js';
import { DomainXml } from '../../src/libvirt/domain-xml.js';

/** The disk policy's decisions next to each disk's facts, with the inventory's class (what classifyDisks gave). */
function decide(domain: DomainXml, options: DiskPolicyOptions = {}) {
  return decideDisks(domain.name, domain.disks, options).map((decision, index) => ({
    ...(domain.disks[index] as DiskInfo),
    class: diskClassOf(decision.action),
    reason: decision.reason,
  }));
}

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/domain-xml/${name}`, import.meta.url), 'utf8');

const captured = [
  'lab-two-disks-inactive.xml',
  'lab-running.xml',
  'lab-running-inactive.xml',
  'lab-nbd-inactive.xml',
  'lab-hostile-name-inactive.xml',
];

for (const name of captured) {
  test(`${name} round-trips byte for byte`, (t) => {
    const xml = fixture(name);
    t.is(DomainXml.parse(xml).toString(), xml);
  });
}

const classes = (name: string, options = {}) =>
  decide(DomainXml.parse(fixture(name)), options).map((disk) => [
    disk.targetDev,
    disk.class,
    disk.path ?? disk.source.protocol,
  ]);

test('two local file disks, with owner, bridge NIC and CPU model', (t) => {
  const domain = DomainXml.parse(fixture('lab-two-disks-inactive.xml'));
  t.is(domain.name, 'inv-two-disks');
  t.is(domain.owner, 'alice@example.com');
  t.deepEqual(domain.vcpus, { current: 2, max: 2 });
  t.deepEqual(domain.memoryKiB, { max: 96 * 1024, current: 96 * 1024 });
  t.is(domain.cpu.mode, 'custom');
  t.is(domain.cpu.model, 'qemu64');
  t.deepEqual(
    domain.nics.map((nic) => [nic.type, nic.source.bridge, nic.targetDev]),
    [['bridge', 'br0', undefined]],
  );
  t.deepEqual(classes('lab-two-disks-inactive.xml'), [
    ['vda', 'local', '/var/lib/libvirt/images/inv-two-disks-a.qcow2'],
    ['vdb', 'local', '/var/lib/libvirt/images/inv-two-disks-b.raw'],
  ]);
});

test('an NBD disk is a network disk, re-attached as it is; the local one is copied', (t) => {
  t.deepEqual(classes('lab-nbd-inactive.xml'), [
    ['vda', 'local', '/var/lib/libvirt/images/inv-nbd-boot.qcow2'],
    ['vdb', 'network', 'nbd'],
  ]);
  const nbd = DomainXml.parse(fixture('lab-nbd-inactive.xml')).disks[1];
  t.deepEqual(nbd?.source.hosts, [{ name: '10.203.0.99', port: '10809' }]);
  t.is(nbd?.source.name, 'inv-export');
});

test('a shared prefix turns a local path into a network disk', (t) => {
  t.deepEqual(classes('lab-nbd-inactive.xml', { sharedPrefixes: ['/var/lib/libvirt/images'] }), [
    ['vda', 'network', '/var/lib/libvirt/images/inv-nbd-boot.qcow2'],
    ['vdb', 'network', 'nbd'],
  ]);
});

test('the hostile name and owner are read back literally', (t) => {
  const domain = DomainXml.parse(fixture('lab-hostile-name-inactive.xml'));
  t.is(domain.name, `it's a "test" $(touch rehome-pwned)`);
  t.is(domain.owner, `$(touch rehome-pwned) 'bob'`);
  t.deepEqual(classes('lab-hostile-name-inactive.xml'), [
    ['vda', 'local', '/var/lib/libvirt/images/inv-hostile.qcow2'],
  ]);
});

test('running and inactive XML of one domain give the same facts; runtime bits only in the running one', (t) => {
  const running = DomainXml.parse(fixture('lab-running.xml'));
  const inactive = DomainXml.parse(fixture('lab-running-inactive.xml'));
  t.is(running.uuid, inactive.uuid);
  t.deepEqual(running.vcpus, inactive.vcpus);
  t.deepEqual(running.memoryKiB, inactive.memoryKiB);
  t.deepEqual(
    decide(running).map((disk) => [disk.targetDev, disk.class, disk.path]),
    decide(inactive).map((disk) => [disk.targetDev, disk.class, disk.path]),
  );
  t.deepEqual(
    running.nics.map((nic) => nic.mac),
    inactive.nics.map((nic) => nic.mac),
  );
  t.regex(running.nics[0]?.targetDev ?? '', /^vnet\d+$/);
  t.is(inactive.nics[0]?.targetDev, undefined);

  const dropped = running.dropHostSpecific().map((item) => item.what);
  t.true(dropped.some((what) => what.startsWith("domain id='")));
  t.true(dropped.some((what) => what.startsWith("<target dev='vnet")));
  t.true(dropped.some((what) => what.startsWith("index='1'")));
  const cleaned = running.toString();
  t.notRegex(cleaned, /vnet\d|index='1'|<alias name='net0'/);
  t.false(inactive.dropHostSpecific().some((item) => item.what.startsWith('domain id')));
});

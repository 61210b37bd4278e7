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

const fixtureNames = ['running-mixed.xml', 'inactive-mixed.xml', 'inactive-simple-gib.xml'];
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/domain-xml/${name}`, import.meta.url), 'utf8');
const hostileName = `it's a "test" $(touch rehome-pwned)`;

for (const name of fixtureNames) {
  test(`${name} round-trips byte for byte`, (t) => {
    const xml = fixture(name);
    t.is(DomainXml.parse(xml).toString(), xml);
  });
}

test('reads name, uuid, vCPUs, memory and CPU', (t) => {
  const domain = DomainXml.parse(fixture('running-mixed.xml'));
  t.is(domain.name, hostileName);
  t.is(domain.uuid, '6f1c9a52-3b7e-4d2a-9c51-0e8f2a7b4c11');
  t.is(domain.hypervisorType, 'qemu');
  t.deepEqual(domain.vcpus, { current: 2, max: 4 });
  t.deepEqual(domain.memoryKiB, { max: 1048576, current: 524288 });
  t.deepEqual(domain.cpu, {
    mode: 'custom',
    match: 'exact',
    model: 'Haswell-noTSX-IBRS',
    fallback: 'forbid',
    vendor: 'Intel',
    features: [
      { name: 'vmx', policy: 'require' },
      { name: 'hle', policy: 'disable' },
    ],
  });
});

test('memory units are honoured; vcpu without current means all', (t) => {
  const domain = DomainXml.parse(fixture('inactive-simple-gib.xml'));
  t.deepEqual(domain.memoryKiB, { max: 2 * 1024 * 1024, current: 1536 * 1024 });
  t.deepEqual(domain.vcpus, { current: 2, max: 2 });
  t.is(domain.cpu.mode, 'host-model');
  t.is(domain.cpu.model, undefined);
  t.is(domain.owner, undefined);
  const bytes = DomainXml.parse(
    "<domain type='qemu'><name>x</name><memory unit='MB'>1000</memory><currentMemory unit='bytes'>1025</currentMemory><vcpu>1</vcpu></domain>",
  );
  t.deepEqual(bytes.memoryKiB, { max: 976563, current: 2 });
});

test('reads NICs: MAC, type, source, model, tap', (t) => {
  const nics = DomainXml.parse(fixture('running-mixed.xml')).nics;
  t.deepEqual(nics, [
    {
      type: 'bridge',
      mac: '52:54:00:6b:3c:01',
      source: { bridge: 'br0' },
      model: 'virtio',
      targetDev: 'vnet3',
      linkState: undefined,
    },
    {
      type: 'network',
      mac: '52:54:00:6b:3c:02',
      source: { network: 'default', bridge: 'virbr0' },
      model: 'e1000e',
      targetDev: 'vnet4',
      linkState: undefined,
    },
    {
      type: 'direct',
      mac: '52:54:00:6b:3c:03',
      source: { dev: 'eth1', mode: 'bridge' },
      model: 'virtio',
      targetDev: 'macvtap0',
      linkState: undefined,
    },
  ]);
});

test('classifies disks: local file copied, LV without a target pool refused, NBD and shared re-attached, cdrom media copied', (t) => {
  const disks = decide(DomainXml.parse(fixture('inactive-mixed.xml')), {
    sharedPrefixes: ['/mnt/shared'],
  });
  t.deepEqual(
    disks.map((disk) => [disk.targetDev, disk.type, disk.device, disk.class]),
    [
      ['vda', 'file', 'disk', 'local'],
      ['vdb', 'block', 'disk', 'unsupported'],
      ['vdc', 'network', 'disk', 'network'],
      ['vdd', 'file', 'disk', 'network'],
      ['sda', 'file', 'cdrom', 'local'],
    ],
  );
  const [root, data, nbd, shared, cdrom] = disks;
  t.is(root?.path, '/var/lib/libvirt/images/mixed-root.qcow2');
  t.is(root?.driverType, 'qcow2');
  t.is(data?.path, '/dev/vg0/mixed-data');
  t.deepEqual(nbd?.source, {
    protocol: 'nbd',
    name: 'shared-scratch',
    hosts: [{ name: '10.203.0.50', port: '10809' }],
  });
  t.true(shared?.shareable);
  t.true(cdrom?.readonly);
  t.regex(cdrom?.reason ?? '', /copied once/);
  t.regex(data?.reason ?? '', /storage\.blockPool/);
  const noShared = decide(DomainXml.parse(fixture('inactive-mixed.xml')));
  t.is(noShared[3]?.class, 'unsupported', 'without a shared prefix the same shareable path is refused');
  t.is(
    decide(DomainXml.parse(fixture('inactive-mixed.xml')), { sharedPrefixes: ['/mnt/sha'] })[3]?.class,
    'unsupported',
  );
});

test('volume disks and empty cdroms', (t) => {
  const domain = DomainXml.parse(fixture('inactive-simple-gib.xml'));
  const [volume, cdrom] = decide(domain);
  t.is(volume?.class, 'unsupported', 'a volume that could not be looked up is refused');
  t.is(decide(domain, { sharedPools: ['default'] })[0]?.class, 'network');
  t.is(cdrom?.class, 'skip');
  t.is(cdrom?.reason, 'empty cdrom drive, stays empty');
});

test('reads passthrough devices', (t) => {
  t.deepEqual(DomainXml.parse(fixture('running-mixed.xml')).hostdevs, [
    { element: 'hostdev', mode: 'subsystem', type: 'pci', source: 'pci 0000:3b:00.1' },
  ]);
  t.deepEqual(DomainXml.parse(fixture('inactive-simple-gib.xml')).hostdevs, []);
});

test('reads and sets the owner in rehome metadata', (t) => {
  const domain = DomainXml.parse(fixture('inactive-mixed.xml'));
  t.is(domain.owner, 'alice@example.org');
  domain.setOwner('bob <b@example.org> & co');
  const again = DomainXml.parse(domain.toString());
  t.is(again.owner, 'bob <b@example.org> & co');
  t.true(
    domain
      .toString()
      .includes(
        '<rehome:owner xmlns:rehome="https://rehome.dev/xmlns/1">bob &lt;b@example.org&gt; &amp; co</rehome:owner>',
      ),
  );
  t.true(
    domain.toString().includes('<libosinfo:os id="http://debian.org/debian/12"/>'),
    'other metadata kept',
  );
});

test('setOwner creates the metadata element when there is none', (t) => {
  const xml = fixture('inactive-simple-gib.xml');
  const domain = DomainXml.parse(xml);
  domain.setOwner('carol');
  const out = domain.toString();
  t.true(
    out.includes(
      '  <uuid>0d3a4c1e-8b55-4f0a-a2d4-7c3e9b1f6a20</uuid>\n  <metadata>\n    <rehome:owner xmlns:rehome="https://rehome.dev/xmlns/1">carol</rehome:owner>\n  </metadata>\n  <memory unit=\'GiB\'>2</memory>',
    ),
    out,
  );
  t.is(DomainXml.parse(out).owner, 'carol');
  t.is(out.replace(/ {2}<metadata>[\s\S]*<\/metadata>\n/, ''), xml, 'nothing else changed');
});

test('repointing a block disk makes it a file disk and changes only that disk', (t) => {
  const xml = fixture('running-mixed.xml');
  const domain = DomainXml.parse(xml);
  domain.repointDisk('vdb', `/var/lib/libvirt/images/it's $(x).qcow2`, { format: 'qcow2' });
  const out = domain.toString();
  const expected = xml.replace(
    `    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='/dev/vg0/mixed-data' index='3'/>
      <backingStore/>`,
    `    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none' io='native'/>
      <source file='/var/lib/libvirt/images/it&apos;s $(x).qcow2'/>`,
  );
  t.not(expected, xml);
  t.is(out, expected);
  t.is(DomainXml.parse(out).disks[1]?.path, `/var/lib/libvirt/images/it's $(x).qcow2`);
  t.throws(() => domain.repointDisk('vdc', '/x'), { message: /not a local file/ });
  t.throws(() => domain.repointDisk('vdz', '/x'), { message: /no disk vdz/ });
});

test('dropping host-only bits from running XML gives the inactive shape for them', (t) => {
  const domain = DomainXml.parse(fixture('running-mixed.xml'));
  const dropped = domain.dropHostSpecific();
  const out = domain.toString();
  for (const gone of [
    "id='7'",
    '<alias',
    'vnet3',
    'macvtap0',
    'portid=',
    "bridge='virbr0'",
    "qcow2' index=",
    '/dev/pts/3',
    '<label>',
    '<imagelabel>',
    "port='5900'",
    '<backingStore/>',
  ]) {
    t.false(out.includes(gone), gone);
  }
  for (const kept of [
    "<mac address='52:54:00:6b:3c:01'/>",
    hostileName.replace(/'/g, '&apos;').replace(/"/g, '&quot;'),
    '<uuid>6f1c9a52',
    "<source bridge='br0'/>",
    "<hostdev mode='subsystem'",
    "<seclabel type='dynamic' model='dac' relabel='yes'/>",
  ]) {
    t.true(out.includes(kept), kept);
  }
  t.true(dropped.some((item) => item.what.startsWith("domain id='7'")));
  t.true(dropped.every((item) => item.why.length > 0));
  t.deepEqual(
    DomainXml.parse(out).nics.map((nic) => nic.targetDev),
    [undefined, undefined, undefined],
  );
  t.is(DomainXml.parse(out).toString(), out);
});

test("after dropping, running XML differs from libvirt's inactive XML only where expected", (t) => {
  const domain = DomainXml.parse(fixture('running-mixed.xml'));
  domain.dropHostSpecific();
  const running = domain.toString().split('\n');
  const inactive = fixture('inactive-mixed.xml').split('\n');
  const onlyRunning = running.filter((line) => !inactive.includes(line));
  const onlyInactive = inactive.filter((line) => !running.includes(line));
  // Kept on purpose: the live CPU definition (check='full', vendor), the default cgroup partition, and the
  // seclabel model (only its generated labels are host-only).
  t.deepEqual(onlyRunning, [
    '  <resource>',
    '    <partition>/machine</partition>',
    '  </resource>',
    "  <cpu mode='custom' match='exact' check='full'>",
    '    <vendor>Intel</vendor>',
    "  <seclabel type='dynamic' model='dac' relabel='yes'/>",
  ]);
  t.deepEqual(onlyInactive, ["  <cpu mode='custom' match='exact' check='partial'>"]);
});

test('dropping host-only bits from inactive XML changes nothing', (t) => {
  const xml = fixture('inactive-mixed.xml');
  const domain = DomainXml.parse(xml);
  t.deepEqual(domain.dropHostSpecific(), []);
  t.is(domain.toString(), xml);
});

test('invalid XML and non-domain roots are refused', (t) => {
  t.throws(() => DomainXml.parse('<domain><name>x</nam></domain>'), { message: /Invalid domain XML/ });
  t.throws(() => DomainXml.parse('<network><name>x</name></network>'), { message: /not <domain>/ });
});

test('Unicode line separators in a name or an owner come back as they were (libvirt reads XML 1.0 line ends)', (t) => {
  const name = 'a\u2028b\u2029c\u0085d';
  const xml = `<domain type='qemu'>\n  <name>${name}</name>\n  <uuid>6f1c9a52-3b7e-4d2a-9c51-0e8f2a7b4c11</uuid>\n</domain>\n`;
  const parsed = DomainXml.parse(xml);
  t.is(parsed.name, name);
  t.is(parsed.toString(), xml);
  parsed.setOwner('!\u2028  !');
  t.is(DomainXml.parse(parsed.toString()).owner, '!\u2028  !');
  t.is(
    DomainXml.parse('<domain>\r\n<name>x</name>\r</domain>').toString(),
    '<domain>\n<name>x</name>\n</domain>',
  );
});

import test from 'ava';
import {
  type DiskAction,
  type DiskCode,
  type DiskFactsForPolicy,
  type DiskPolicyOptions,
  decideDisk,
  diskClassOf,
  isUnderPrefix,
  mayRemove,
  unsafeName,
} from '../../src/disks/index.js';
import { diskFacts } from '../../src/inventory/placement-facts.js';
import { DomainXml } from '../../src/libvirt/domain-xml.js';
import { storageFilter } from '../../src/placement/filters/storage.js';
import { planPlacements, vmBlockers } from '../../src/placement/index.js';
import { ctx, host, vm } from './placement-fixtures.js';

function diskOf(diskXml: string) {
  const xml = DomainXml.parse(`<domain type='qemu'><name>vm1</name><devices>${diskXml}</devices></domain>`);
  const [disk] = xml.disks;
  if (!disk) throw new Error('no disk');
  return disk;
}

const OPTIONS: DiskPolicyOptions = {
  sharedPrefixes: ['/shared'],
  sharedPools: ['nfs'],
  blockPool: 'lvm',
  removableMedia: 'copy',
};
const DIR_VOLUME: DiskFactsForPolicy = {
  volume: { poolType: 'dir', path: '/var/lib/libvirt/images/data.qcow2', format: 'qcow2' },
};

interface Row {
  name: string;
  disk: string;
  options?: DiskPolicyOptions;
  facts?: DiskFactsForPolicy;
  vm?: string;
  action: DiskAction;
  code: DiskCode;
  method?: 'mirror' | 'once';
  into?: unknown;
  keepOnSource?: boolean;
  reason?: RegExp;
}

const file = (path: string, extra = '', type = 'qcow2', dev = 'vda') =>
  `<disk type='file' device='disk'><driver name='qemu' type='${type}'/><source file='${path}'/>${extra}<target dev='${dev}' bus='virtio'/></disk>`;

const ROWS: Row[] = [
  {
    name: 'qcow2 file',
    disk: file('/var/lib/libvirt/images/a.qcow2'),
    action: 'copy',
    code: 'copy-qcow2',
    method: 'mirror',
    into: { kind: 'file', fileName: 'vm1-vda.qcow2', format: 'qcow2' },
    keepOnSource: false,
  },
  {
    name: 'qcow2 overlay on a backing file: flattened, backing named',
    disk: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/top.qcow2' index='2'/><backingStore type='file' index='1'><format type='qcow2'/><source file='/img/base.qcow2'/><backingStore/></backingStore><target dev='vda' bus='virtio'/></disk>`,
    action: 'copy',
    code: 'copy-qcow2-chain-flattened',
    method: 'mirror',
    reason: /\/img\/base\.qcow2.*flattened/,
  },
  {
    name: 'sparse raw file: raw, same format',
    disk: file('/img/raw.img', '', 'raw', 'vdb'),
    action: 'copy',
    code: 'copy-raw-sparse',
    into: { kind: 'file', fileName: 'vm1-vdb.raw', format: 'raw' },
  },
  {
    name: 'vmdk file: into qcow2, said so',
    disk: file('/img/x.vmdk', '', 'vmdk'),
    action: 'copy',
    code: 'copy-converted-qcow2',
  },
  {
    name: 'read-only local disk: copied once, never removed',
    disk: file('/img/golden.raw', '<readonly/>', 'raw', 'vdc'),
    action: 'copy',
    code: 'copy-readonly',
    method: 'once',
    keepOnSource: true,
  },
  {
    name: 'shareable local disk: refused',
    disk: file('/img/cluster.raw', '<shareable/>', 'raw'),
    action: 'refuse',
    code: 'refuse-shareable-local',
    reason: /shareable/,
  },
  {
    name: 'shareable disk on shared storage: re-attached',
    disk: file('/shared/cluster.raw', '<shareable/>', 'raw'),
    action: 'reattach',
    code: 'reattach-shared-path',
  },
  {
    name: 'path under a shared prefix',
    disk: file('/shared/vm/a.qcow2'),
    action: 'reattach',
    code: 'reattach-shared-path',
  },
  {
    name: '/shared/../local/x is not shared',
    disk: file('/shared/../local/x.qcow2'),
    action: 'copy',
    code: 'copy-qcow2',
  },
  {
    name: 'a sibling of the prefix is not under it',
    disk: file('/shared-not/a.qcow2'),
    action: 'copy',
    code: 'copy-qcow2',
  },
  {
    name: 'relative path: refused',
    disk: file('images/a.qcow2'),
    action: 'refuse',
    code: 'refuse-relative-path',
  },
  {
    name: 'LV: into a volume of the configured pool, same name',
    disk: `<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/vg0/data'/><target dev='vdd' bus='virtio'/></disk>`,
    action: 'copy',
    code: 'copy-block-to-volume',
    into: { kind: 'volume', pool: 'lvm', name: 'data', format: 'raw', definition: 'block' },
  },
  {
    name: 'LV into a file when configured',
    disk: `<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/vg0/data'/><target dev='vdd' bus='virtio'/></disk>`,
    options: { blockDisksInto: 'file' },
    action: 'copy',
    code: 'copy-block-to-file',
    into: { kind: 'file', fileName: 'vm1-vdd.raw', format: 'raw' },
  },
  {
    name: 'block device without a target pool: refused, naming the keys',
    disk: `<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/sdb'/><target dev='vdd' bus='virtio'/></disk>`,
    options: {},
    action: 'refuse',
    code: 'refuse-block-no-target',
    reason: /storage\.blockPool/,
  },
  {
    name: 'dir pool volume: created in the same pool, definition kept',
    disk: `<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='images' volume='data.qcow2'/><target dev='vde' bus='virtio'/></disk>`,
    facts: DIR_VOLUME,
    action: 'copy',
    code: 'copy-pool-volume',
    into: { kind: 'volume', pool: 'images', name: 'data.qcow2', format: 'qcow2', definition: 'keep' },
  },
  {
    name: 'volume that could not be looked up: refused (never named blindly on the target)',
    disk: `<disk type='volume' device='disk'><source pool='images' volume='gone'/><target dev='vde' bus='virtio'/></disk>`,
    action: 'refuse',
    code: 'refuse-volume-unresolved',
  },
  {
    name: 'volume in an iscsi pool not listed as shared: refused',
    disk: `<disk type='volume' device='disk'><source pool='san' volume='lun1'/><target dev='vde' bus='virtio'/></disk>`,
    facts: { volume: { poolType: 'iscsi', path: '/dev/disk/by-path/x' } },
    action: 'refuse',
    code: 'refuse-volume-pool-type',
  },
  {
    name: 'volume in a shared pool: re-attached',
    disk: `<disk type='volume' device='disk'><source pool='nfs' volume='v'/><target dev='vde' bus='virtio'/></disk>`,
    action: 'reattach',
    code: 'reattach-shared-pool',
  },
  {
    name: 'network disk',
    disk: `<disk type='network' device='disk'><source protocol='rbd' name='pool/img'><host name='ceph1' port='6789'/></source><target dev='vdf' bus='virtio'/></disk>`,
    action: 'reattach',
    code: 'reattach-network',
  },
  {
    name: 'cdrom with a local ISO: copied once, kept',
    disk: `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/isos/tools.iso'/><target dev='sda' bus='sata'/><readonly/></disk>`,
    action: 'copy',
    code: 'copy-removable-media',
    method: 'once',
    keepOnSource: true,
  },
  {
    name: 'cdrom ejected when asked',
    disk: `<disk type='file' device='cdrom'><source file='/isos/tools.iso'/><target dev='sda' bus='sata'/><readonly/></disk>`,
    options: { removableMedia: 'eject' },
    action: 'leave-out',
    code: 'eject-removable-media',
  },
  {
    name: 'empty cdrom drive stays empty',
    disk: `<disk type='file' device='cdrom'><target dev='sdb' bus='sata'/><readonly/></disk>`,
    action: 'leave-out',
    code: 'empty-drive',
  },
  {
    name: 'host cdrom drive: refused',
    disk: `<disk type='block' device='cdrom'><source dev='/dev/sr0'/><target dev='sdb' bus='sata'/><readonly/></disk>`,
    action: 'refuse',
    code: 'refuse-host-drive',
  },
  {
    name: 'nvme: refused',
    disk: `<disk type='nvme' device='disk'><source type='pci' managed='yes' namespace='1'><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source><target dev='vdg' bus='virtio'/></disk>`,
    action: 'refuse',
    code: 'refuse-unsupported-type',
    reason: /nvme/,
  },
  {
    name: 'vhost-user: refused',
    disk: `<disk type='vhostuser' device='disk'><source type='unix' path='/tmp/vhost.sock'/><target dev='vdh' bus='virtio'/></disk>`,
    action: 'refuse',
    code: 'refuse-unsupported-type',
  },
  {
    name: 'dir: refused',
    disk: `<disk type='dir' device='floppy'><source dir='/tmp/fd'/><target dev='fda' bus='fdc'/></disk>`,
    action: 'refuse',
    code: 'refuse-unsupported-type',
  },
  {
    name: 'LUN: refused',
    disk: `<disk type='block' device='lun'><source dev='/dev/sdc'/><target dev='sdc' bus='scsi'/></disk>`,
    action: 'refuse',
    code: 'refuse-lun',
  },
  // Hostile names: a device, VM, pool or volume name that would leave the image directory.
  {
    name: "device name with '/'",
    disk: file('/img/a.qcow2', '', 'qcow2', '../../etc/passwd'),
    action: 'refuse',
    code: 'refuse-unsafe-name',
  },
  {
    name: "device name '..'",
    disk: file('/img/a.qcow2', '', 'qcow2', '..'),
    action: 'refuse',
    code: 'refuse-unsafe-name',
  },
  {
    name: "device name starting with '-'",
    disk: file('/img/a.qcow2', '', 'qcow2', '-rf'),
    action: 'refuse',
    code: 'refuse-unsafe-name',
  },
  {
    name: "VM name with '/'",
    disk: file('/img/a.qcow2'),
    vm: 'x/../../root',
    action: 'refuse',
    code: 'refuse-unsafe-name',
  },
  {
    name: "VM name '..'",
    disk: file('/img/a.qcow2'),
    vm: '..',
    action: 'refuse',
    code: 'refuse-unsafe-name',
  },
  {
    name: 'VM name with a newline',
    disk: file('/img/a.qcow2'),
    vm: 'a\nb',
    action: 'refuse',
    code: 'refuse-unsafe-name',
  },
  {
    name: "volume name '../x'",
    disk: `<disk type='volume' device='disk'><source pool='images' volume='../x'/><target dev='vde' bus='virtio'/></disk>`,
    facts: DIR_VOLUME,
    action: 'refuse',
    code: 'refuse-unsafe-name',
  },
  {
    name: "pool name with '/'",
    disk: `<disk type='volume' device='disk'><source pool='a/b' volume='x'/><target dev='vde' bus='virtio'/></disk>`,
    facts: DIR_VOLUME,
    action: 'refuse',
    code: 'refuse-unsafe-name',
  },
  {
    name: 'LV path with .. does not name an LV of its own',
    disk: `<disk type='block' device='disk'><source dev='/dev/vg0/../sda'/><target dev='vdd' bus='virtio'/></disk>`,
    action: 'copy',
    code: 'copy-block-to-volume',
    into: { kind: 'volume', pool: 'lvm', name: 'vm1-vdd', format: 'raw', definition: 'block' },
  },
];

for (const row of ROWS) {
  test(`policy: ${row.name}`, (t) => {
    const decision = decideDisk(row.vm ?? 'vm1', diskOf(row.disk), row.options ?? OPTIONS, row.facts ?? {});
    t.is(decision.action, row.action, decision.reason);
    t.is(decision.code, row.code, decision.reason);
    t.true(decision.reason.length > 0);
    if (row.method) t.is(decision.copy?.method, row.method);
    if (row.into) t.deepEqual(decision.copy?.into, row.into);
    if (row.keepOnSource !== undefined) t.is(decision.copy?.keepOnSource, row.keepOnSource);
    if (row.reason) t.regex(decision.reason, row.reason);
    if (decision.action === 'copy') t.truthy(decision.copy);
    else t.is(decision.copy, undefined);
  });
}

test('unsafeName: hostile names are refused, ordinary ones pass', (t) => {
  for (const bad of ['', '.', '..', 'a/b', '../a', 'a..b', '-x', 'a\0b', 'a\tb', 'x'.repeat(201)]) {
    t.truthy(unsafeName(bad), JSON.stringify(bad));
  }
  for (const good of ['vda', 'web-01', 'db_2.example', 'Ünïcode', 'a.b'])
    t.is(unsafeName(good), undefined, good);
});

test('isUnderPrefix normalises both sides', (t) => {
  t.true(isUnderPrefix('/shared/a', '/shared'));
  t.true(isUnderPrefix('/shared//a', '/shared/'));
  t.true(isUnderPrefix('/x/../shared/a', '/shared'));
  t.false(isUnderPrefix('/shared/../local/x', '/shared'));
  t.false(isUnderPrefix('/shared', '/shared'));
  t.false(isUnderPrefix('/sharedx/a', '/shared'));
  t.false(isUnderPrefix('shared/a', '/'));
});

test('retention: kept, referenced, backing and block disks are never removed', (t) => {
  const refs = { paths: new Set(['/img/base.qcow2', '/img/used.qcow2']), volumes: new Set(['images/v1']) };
  t.deepEqual(mayRemove({ target: 'vda', kind: 'file', path: '/img/top.qcow2' }, refs), { remove: true });
  t.false(mayRemove({ target: 'vda', kind: 'file', path: '/img/base.qcow2' }, refs).remove);
  t.false(mayRemove({ target: 'vda', kind: 'file', path: '/img/x/../used.qcow2' }, refs).remove);
  t.false(
    mayRemove({ target: 'vdc', kind: 'file', path: '/img/golden.raw', keep: 'read-only' }, refs).remove,
  );
  t.false(mayRemove({ target: 'vdd', kind: 'block', path: '/dev/vg0/data' }, refs).remove);
  t.false(mayRemove({ target: 'vdd', kind: 'file', path: '/dev/sda' }, refs).remove);
  t.false(mayRemove({ target: 'vdd', kind: 'file', path: 'relative.img' }, refs).remove);
  t.false(
    mayRemove({ target: 'vde', kind: 'volume', path: '/p/v1', pool: 'images', volume: 'v1' }, refs).remove,
  );
  t.true(
    mayRemove({ target: 'vde', kind: 'volume', path: '/p/v2', pool: 'images', volume: 'v2' }, refs).remove,
  );
});

test('plan: a refusal becomes a disk blocker with the same reason and code; explain lists every disk', (t) => {
  const refused = decideDisk('vm1', diskOf(file('/img/cluster.raw', '<shareable/>', 'raw', 'vdb')), OPTIONS);
  const copied = decideDisk('vm1', diskOf(file('/img/a.qcow2')), OPTIONS);
  const report = (d: typeof refused, dev: string) => ({
    target: dev,
    device: 'disk',
    type: 'file',
    source: d.source,
    class: diskClassOf(d.action),
    reason: d.reason,
    action: d.action,
    code: d.code,
    readonly: false,
    shareable: d.action === 'refuse',
    virtualSizeBytes: 1 << 30,
    allocatedBytes: 1 << 20,
  });
  const vm = {
    name: 'vm1',
    uuid: 'u1',
    host: 'a',
    vcpus: 1,
    memoryKiB: 1024,
    cpu: { mode: 'custom' },
    disks: [diskFacts(report(copied, 'vda')), diskFacts(report(refused, 'vdb'))],
    nics: [],
    hostdevs: 0,
  };
  const blockers = vmBlockers(vm);
  t.is(blockers.length, 1);
  t.is(blockers[0]?.code, 'refuse-shareable-local');
  t.true(blockers[0]?.reason.includes(refused.reason));
  const plan = planPlacements([vm], [], { explain: true });
  t.deepEqual(
    plan.decisions[0]?.disks?.map((d) => [d.target, d.action, d.code]),
    [
      ['vda', 'copy', 'copy-qcow2'],
      ['vdb', 'refuse', 'refuse-shareable-local'],
    ],
  );
});

test('placement: a copy into a volume needs its pool on the target and its name free there', (t) => {
  const disks = [
    { target: 'vda', kind: 'local' as const, virtualSizeBytes: 1e9, allocatedBytes: 1e6 },
    {
      target: 'vdb',
      kind: 'local' as const,
      virtualSizeBytes: 1e9,
      allocatedBytes: 1e6,
      intoVolume: { pool: 'images', name: 'data.qcow2' },
    },
  ];
  const guest = vm('v1', { host: 'src', disks });
  const hosts = [
    host('src', { storagePools: { images: [] } }),
    host('taken', { storagePools: { images: ['data.qcow2'] } }),
    host('nopool', { storagePools: { other: [] } }),
    host('free', { storagePools: { images: ['else.qcow2'] } }),
  ];
  t.is(storageFilter(guest, hosts[1] as never, ctx()).status, 'skip');
  t.regex(storageFilter(guest, hosts[1] as never, ctx()).reason, /already exists in pool images/);
  t.regex(storageFilter(guest, hosts[2] as never, ctx()).reason, /no active pool images/);
  t.is(storageFilter(guest, hosts[3] as never, ctx()).status, 'ok');
  t.is(storageFilter(vm('v2'), hosts[1] as never, ctx()).status, 'ok', 'no volume to create');
  for (const engine of ['fast', 'reference'] as const) {
    const plan = planPlacements([guest], hosts, { engine });
    const decision = plan.decisions[0];
    t.is(decision?.status === 'placed' ? decision.target : decision?.status, 'free', engine);
  }
});

import test from 'ava';
import { formatInventory } from '../../src/app/format/inventory.js';
import { configSchema } from '../../src/config/schema.js';
import { HostKeyUnknownError } from '../../src/host/host-key-errors.js';
import { inventoryHosts } from '../../src/inventory/inventory.js';
import { DEFAULT_PLACEMENT_POLICY, toPlacementFacts } from '../../src/inventory/placement-facts.js';
import type {
  DiskFactsReport,
  DomainFacts,
  HostFactsReport,
  HostInventory,
  Inventory,
} from '../../src/inventory/types.js';
import type { HostConnections } from '../../src/libvirt/host-connections.js';

const GiB = 1024 ** 3;

function disk(overrides: Partial<DiskFactsReport>): DiskFactsReport {
  return {
    target: 'vda',
    device: 'disk',
    type: 'file',
    source: '/img/x.qcow2',
    class: 'local',
    reason: '',
    action: 'copy',
    code: 'copy-qcow2',
    readonly: false,
    shareable: false,
    virtualSizeBytes: 10 * GiB,
    allocatedBytes: 2 * GiB,
    ...overrides,
  };
}

function domain(name: string, overrides: Partial<DomainFacts> = {}): DomainFacts {
  return {
    name,
    uuid: `uuid-${name}`,
    state: 'running',
    persistent: true,
    vcpus: { current: 2, max: 4 },
    memoryKiB: { current: 1024 * 1024, max: 2 * 1024 * 1024 },
    cpu: {
      mode: 'custom',
      model: 'qemu64',
      features: [
        { name: 'vmx', policy: 'require' },
        { name: 'hle', policy: 'disable' },
      ],
    },
    nics: [{ type: 'bridge', mac: '52:54:00:00:00:01', source: { bridge: 'br0' } }],
    disks: [disk({})],
    hostdevs: [],
    warnings: [],
    ...overrides,
  };
}

function host(name: string, domains: DomainFacts[]): HostFactsReport {
  return {
    name,
    ok: true,
    hostname: name,
    cpu: { arch: 'x86_64', model: 'Skylake', vendor: 'Intel', features: ['vmx'] },
    cores: 8,
    memoryKiB: 32 * 1024 * 1024,
    freeMemoryKiB: 16 * 1024 * 1024,
    imageDir: '/var/lib/libvirt/images',
    imageDirFreeBytes: 500 * GiB,
    bridges: ['br0'],
    networks: [
      { name: 'default', active: true, bridge: 'virbr0' },
      { name: 'off', active: false },
    ],
    libvirtVersion: { major: 9, minor: 0, micro: 0, text: '9.0.0' },
    qemuVersion: { major: 7, minor: 2, micro: 22, text: '7.2.22' },
    domains,
    warnings: [],
    elapsedMs: 5,
  };
}

const failure: HostInventory = {
  name: 'down',
  ok: false,
  error: { message: 'Cannot connect', kind: 'unreachable', hints: ['check it'] },
  elapsedMs: 3,
};

const inventory: Inventory = {
  hosts: [
    host('a', [
      domain('web'),
      domain('off', { state: 'shutoff' }),
      domain('odd', {
        disks: [
          disk({ target: 'vda' }),
          disk({
            target: 'vdb',
            class: 'network',
            type: 'network',
            action: 'reattach',
            code: 'reattach-network',
            virtualSizeBytes: undefined,
          }),
          disk({ target: 'vdc', device: 'lun', type: 'block', action: 'refuse', code: 'refuse-lun' }),
          disk({ target: 'vdd', shareable: true, action: 'refuse', code: 'refuse-shareable-local' }),
          disk({ target: 'vde', virtualSizeBytes: undefined }),
          disk({
            target: 'vdf',
            class: 'unsupported',
            type: 'dir',
            reason: 'disk type dir cannot be moved',
            action: 'refuse',
            code: 'refuse-unsupported-type',
          }),
          disk({ target: 'sda', device: 'cdrom', class: 'skip', action: 'leave-out', code: 'empty-drive' }),
          disk({ target: 'vdg', type: 'volume', action: 'refuse', code: 'refuse-volume-unresolved' }),
        ],
        hostdevs: ['pci 0000:3b:00.1'],
      }),
    ]),
    failure,
  ],
};

const config = (placement?: unknown) =>
  configSchema.parse({
    hosts: [{ name: 'a', address: 'a', labels: { zone: 'z1' } }],
    ...(placement ? { placement } : {}),
  });

test('host facts: labels from config, default policy, active networks, only active guests count', (t) => {
  const facts = toPlacementFacts(inventory, config());
  t.deepEqual(facts.unreachable, ['down']);
  const [a] = facts.hosts;
  t.deepEqual(a?.labels, { zone: 'z1' });
  t.deepEqual(a?.policy, DEFAULT_PLACEMENT_POLICY);
  t.deepEqual(a?.networks, ['default']);
  t.deepEqual(a?.cpu, { model: 'Skylake', vendor: 'Intel', features: ['vmx'] });
  t.is(a?.imageDirFreeBytes, 500 * GiB);
  t.deepEqual(
    a?.guests.map((guest) => guest.name),
    ['web', 'odd'],
  );
  t.deepEqual(a?.guests[0], { name: 'web', vcpus: 2, memoryKiB: 2 * 1024 * 1024 });
});

test('the config placement section overrides the defaults it names', (t) => {
  const policy = toPlacementFacts(inventory, config({ reservedMemoryMiB: 4096, cpuOvercommit: 2 })).hosts[0]
    ?.policy;
  t.deepEqual(policy, { ...DEFAULT_PLACEMENT_POLICY, reservedMemoryKiB: 4096 * 1024, cpuOvercommit: 2 });
  t.throws(() => config({ memoryOvercommit: -1 }));
});

test('VM facts: required CPU features only, NIC sources, hostdevs counted', (t) => {
  const vms = toPlacementFacts(inventory, config()).vms;
  t.deepEqual(
    vms.map((vm) => vm.name),
    ['web', 'off', 'odd'],
  );
  const web = vms[0];
  t.deepEqual(web?.cpu, { mode: 'custom', model: 'qemu64', features: ['vmx'] });
  t.deepEqual(web?.nics, [{ mac: '52:54:00:00:00:01', type: 'bridge', source: 'br0' }]);
  t.is(web?.host, 'a');
  t.is(vms[2]?.hostdevs, 1);
});

test('disks placement cannot move safely are unsupported, with a note', (t) => {
  const odd = toPlacementFacts(inventory, config()).vms[2];
  t.deepEqual(
    odd?.disks.map((d) => [d.target, d.kind]),
    [
      ['vda', 'local'],
      ['vdb', 'network'],
      ['vdc', 'unsupported'],
      ['vdd', 'unsupported'],
      ['vde', 'unsupported'],
      ['vdf', 'unsupported'],
      ['sda', 'skip'],
      ['vdg', 'unsupported'],
    ],
  );
  t.is(odd?.disks[0]?.allocatedBytes, 2 * GiB);
  t.regex(odd?.disks[4]?.note ?? '', /size .* unknown/);
  t.regex(odd?.disks[5]?.note ?? '', /dir cannot be moved/);
  t.is(odd?.disks[3]?.code, 'refuse-shareable-local');
});

test('the human tables show hosts, domains and the failed host with its reason', (t) => {
  const text = formatInventory(inventory);
  t.regex(text, /^HOST\s+STATUS\s+CPU\s+CORES/m);
  t.regex(
    text,
    /^a\s+ok\s+Intel Skylake\s+8\s+16 GiB\/32 GiB\s+500 GiB\s+br0\s+default:virbr0,off\(inactive\)\s+9\.0\.0\s+7\.2\.22$/m,
  );
  t.regex(text, /^down\s+error \(unreachable\)\s+Cannot connect$/m);
  t.regex(text, /^a\s+web\s+running\s+2\s+2 GiB\s+custom qemu64\s+vda:local 10 GiB\/2 GiB used/m);
  t.regex(text, /^down: check it$/m);
});

test('one host failing does not stop the others; callbacks fire for each', async (t) => {
  const started: string[] = [];
  const done: HostInventory[] = [];
  const connections = {
    ssh: async (name: string) => {
      if (name === 'k') throw new HostKeyUnknownError('k', 'SHA256:abc', 'ssh-ed25519');
      throw new Error(`Cannot open /run/libvirt/libvirt-sock on ${name}: refused`);
    },
    libvirt: () => new Promise(() => {}),
  } as unknown as HostConnections;
  const result = await inventoryHosts(
    [
      { name: 'k', imageDir: '/i' },
      { name: 'l', imageDir: '/i' },
    ],
    connections,
    { onHostStart: (name) => started.push(name), onHostDone: (entry) => done.push(entry) },
  );
  t.deepEqual(started, ['k', 'l']);
  t.is(done.length, 2);
  const [k, l] = result.hosts;
  t.false(k?.ok);
  if (k && !k.ok) {
    t.is(k.error.kind, 'host-key');
  }
  if (l && !l.ok) {
    t.is(l.error.kind, 'internal');
    t.true(l.error.hints.some((line) => line.includes('Is libvirtd running on l?')));
  } else t.fail('l should have failed');
});

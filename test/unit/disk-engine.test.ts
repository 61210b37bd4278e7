import test from 'ava';
import { formatStatus } from '../../src/app/format/migration.js';
import { decideDisks } from '../../src/disks/policy.js';
import { retainedDisks } from '../../src/disks/retention.js';
import type { RehomeError } from '../../src/errors.js';
import { copyOnceArgv } from '../../src/sync/block-copy.js';
import { qemuNbdArgv } from '../../src/sync/nbd-export.js';
import { migrateAndReboot } from '../fake/crash.js';
import { IMAGE_DIR, Lab } from '../fake/engine-harness.js';
import { DomainXml, type MigrationJob, migrate, reconcile } from '../fake/src-imports.js';

test('retention removes the copied disk nobody uses, and keeps the one another domain on the source uses', async (t) => {
  const lab = new Lab(t, { disks: 2 });
  const mover = lab.process('migrate');
  await migrateAndReboot(mover);
  const done = await lab.migration();
  t.is(done.phase, 'done');
  const shared = `${IMAGE_DIR}/vm1-vdb.qcow2`;
  // Another guest on the source uses vdb's image (a golden image or a disk handed over): it must survive.
  lab.fake.addGuest(
    'src',
    {
      name: 'vm2',
      uuid: '7f1e1c2a-0d3b-4b7e-9a51-3c0d2e4f5a62',
      disks: [{ dev: 'vda', path: shared, virtualSize: 80 << 20 }],
      nics: [],
    },
    'shutoff',
  );
  const src = lab.fake.host('src');
  t.true(src.files.has(`${IMAGE_DIR}/vm1-vda.qcow2`));

  const early = lab.process('reconcile-early');
  await reconcile(early.rt, () => {}, { now: new Date() });
  t.true(src.files.has(`${IMAGE_DIR}/vm1-vda.qcow2`), 'removed before its time');

  const later = lab.process('reconcile');
  const entries = await reconcile(later.rt, () => {}, { now: new Date(Date.now() + 2 * 3600_000) });
  t.false(src.files.has(`${IMAGE_DIR}/vm1-vda.qcow2`), 'the unused copied disk stays');
  t.true(src.files.has(shared), 'a disk another domain uses was removed');
  const entry = entries.find((e) => e.action === 'retention');
  t.regex(
    entry?.reason ?? '',
    /removed .*vm1-vda\.qcow2; kept .*vm1-vdb\.qcow2 \(a domain defined on the host references it/,
  );
  const steps = await lab.auditSteps();
  t.true(steps.includes('remove-retained:ok'));
  t.true(steps.includes('retention-skip:info'));
  const audits = await lab.store.listAudit({ migrationId: done.id });
  const skip = audits.find((a) => a.step === 'retention-skip');
  t.is(skip?.detail?.path, shared);
  const job = (await lab.migration()).job as MigrationJob;
  t.truthy(job.retained?.removedAt);
  t.deepEqual(
    job.retained?.outcome?.map((o) => [o.path, o.action]),
    [
      [`${IMAGE_DIR}/vm1-vda.qcow2`, 'removed'],
      [shared, 'skipped'],
    ],
  );

  // A second pass does nothing more.
  const again = lab.process('reconcile-again');
  const second = await reconcile(again.rt, () => {}, { now: new Date(Date.now() + 3 * 3600_000) });
  t.false(second.some((e) => e.action === 'retention'));
});

test('retained disks: read-only media is kept for good, LVs are never removed, pool volumes go through libvirt', (t) => {
  const disks = retainedDisks([
    {
      target: 'vda',
      sourcePath: '/img/a.qcow2',
      into: { kind: 'file', fileName: 'vm-vda.qcow2', format: 'qcow2' },
    },
    {
      target: 'sda',
      sourcePath: '/isos/tools.iso',
      into: { kind: 'file', fileName: 'vm-sda.raw', format: 'raw' },
      keepOnSource: true,
    },
    {
      target: 'vdb',
      sourcePath: '/dev/vg0/data',
      into: { kind: 'volume', pool: 'lvm', name: 'data', format: 'raw', definition: 'block' },
    },
    {
      target: 'vdc',
      sourcePath: '/pool/v.qcow2',
      into: { kind: 'volume', pool: 'images', name: 'v.qcow2', format: 'qcow2', definition: 'keep' },
    },
    { target: 'vdd', sourcePath: '/old/record.qcow2' },
  ]);
  t.deepEqual(
    disks.map((d) => [d.target, d.kind, Boolean(d.keep)]),
    [
      ['vda', 'file', false],
      ['sda', 'file', true],
      ['vdb', 'block', false],
      ['vdc', 'volume', false],
      ['vdd', 'file', false],
    ],
  );
  t.is(disks[3]?.pool, 'images');
  t.is(disks[3]?.volume, 'v.qcow2');
});

for (const [label, diskXml, code] of [
  [
    'a shareable local disk',
    `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/var/lib/libvirt/images/cluster.raw'/><target dev='vdx' bus='virtio'/><shareable/></disk>`,
    'refuse-shareable-local',
  ],
  [
    'an nvme disk',
    `<disk type='nvme' device='disk'><source type='pci' managed='yes' namespace='1'><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source><target dev='vdy' bus='virtio'/></disk>`,
    'refuse-unsupported-type',
  ],
] as const) {
  test(`migrate --to refuses ${label} up front, with the policy's reason and code, touching nothing`, async (t) => {
    const lab = new Lab(t);
    const domain = lab.fake.host('src').domainByUuid(lab.guest.uuid);
    if (!domain) throw new Error('no vm1');
    domain.xml = domain.xml.replace('</devices>', `${diskXml}\n  </devices>`);
    const process = lab.process('migrate');
    const error = await t.throwsAsync(migrate(process.rt, { vm: 'vm1', to: 'dst' }, () => {}));
    const expected = decideDisks('vm1', DomainXml.parse(domain.xml).disks).find((d) => d.action === 'refuse');
    t.is(expected?.code, code);
    t.true(error?.message.includes(expected?.reason ?? '?'), error?.message);
    t.is((error as RehomeError).subject.code, 'disk-refused');
    t.deepEqual(
      (error as RehomeError).subject.disks?.map((d) => d.code),
      [code],
    );
    t.deepEqual(await lab.store.listMigrations({ vm: 'vm1' }), [], 'a migration was recorded');
    t.deepEqual(lab.fake.host('dst').commands, [], 'the target was touched');
  });
}

test('status shows what is retained and until when, then what retention did', (t) => {
  const base = {
    id: 'm1',
    vm: 'vm1',
    uuid: 'u1',
    phase: 'done',
    source: 'src',
    target: 'dst',
    deadline: null,
    mode: 'background',
    progress: null,
    pauseLatenciesMs: [],
    timeline: {},
    lastError: null,
    lock: null,
    createdAt: '2026-11-30T00:00:00.000Z',
    updatedAt: '2026-11-30T00:00:00.000Z',
  };
  const retained = {
    host: 'src',
    until: '2026-12-01T00:00:00.000Z',
    paths: ['/img/vm1-vda.qcow2', '/isos/tools.iso'],
    disks: retainedDisks([
      { target: 'vda', sourcePath: '/img/vm1-vda.qcow2' },
      { target: 'sda', sourcePath: '/isos/tools.iso', keepOnSource: true },
    ]),
  };
  const before = formatStatus({ migrations: [{ ...base, retained }] });
  t.regex(before, /source disks kept on src until 2026-12-01T00:00:00.000Z/);
  t.regex(before, /\/img\/vm1-vda\.qcow2: removed after 2026-12-01T00:00:00\.000Z if unused/);
  t.regex(before, /\/isos\/tools\.iso: never removed \(read-only/);
  const after = formatStatus({
    migrations: [
      {
        ...base,
        retained: {
          ...retained,
          removedAt: '2026-12-01T01:00:00.000Z',
          outcome: [
            { path: '/img/vm1-vda.qcow2', action: 'removed' as const, reason: 'file removed', bytes: 10 },
            { path: '/isos/tools.iso', action: 'skipped' as const, reason: 'read-only' },
          ],
        },
      },
    ],
  });
  t.regex(after, /retention ran 2026-12-01T01:00:00\.000Z/);
  t.regex(after, /\/isos\/tools\.iso: skipped, read-only/);
});

test('a raw export stays sparse (discard), a qcow2 one is as before; a once-copy reads with -U and the given format', (t) => {
  const spec = {
    host: 'b',
    disk: 'vdc',
    imagePath: '/img/vm-vdc.raw',
    virtualSizeBytes: 1 << 26,
    exportName: 'rehome-1234abcd-vdc',
    bindAddress: '10.0.0.2',
    certDir: '/pki',
    allowedClientDn: 'O=rehome,CN=a',
    runDir: '/run/rehome',
  };
  const qemuNbdPart = (argv: string[]) => argv.slice(argv.indexOf('qemu-nbd'));
  const raw = qemuNbdPart(qemuNbdArgv({ ...spec, format: 'raw' }, 10809, '/run/rehome/e.pid'));
  t.deepEqual(raw.slice(1, 4), ['-f', 'raw', '--discard=unmap']);
  const qcow2 = qemuNbdPart(qemuNbdArgv(spec, 10809, '/run/rehome/e.pid'));
  t.deepEqual(qcow2.slice(1, 4), ['-f', 'qcow2', '-x']);
  const once = copyOnceArgv(
    { path: '/isos/a,b.iso', format: 'raw' },
    { address: '10.0.0.2', port: 10810, exportName: 'rehome-x-hd,c' },
    '/pki',
  );
  t.deepEqual(once.slice(0, 6), ['qemu-img', 'convert', '-U', '-n', '-f', 'raw']);
  t.is(once.at(-2), '/isos/a,b.iso', 'the source path is one argv element, not an option string');
  t.is(
    once.at(-1),
    'driver=nbd,server.type=inet,server.host=10.0.0.2,server.port=10810,export=rehome-x-hd,,c,tls-creds=tls0',
  );
  t.true(once.includes('tls-creds-x509,id=tls0,endpoint=client,dir=/pki'));
});

test('the target definition: a cdrom ejected keeps an empty drive; a block copy into an LV stays a block disk', (t) => {
  const xml = DomainXml.parse(`<domain type='qemu'>
  <name>vm1</name>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/isos/tools.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw'/>
      <source dev='/dev/vg-a/data'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw'/>
      <source dev='/dev/vg-a/other'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
  </devices>
</domain>`);
  xml.ejectMedia('hdc');
  xml.repointDisk('vdb', '/dev/vg-b/data', { format: 'raw', as: 'block' });
  xml.repointDisk('vdc', '/pool/vm1-vdc', { format: 'raw' });
  const [cdrom, lv, file] = xml.disks;
  t.is(cdrom?.device, 'cdrom');
  t.is(cdrom?.path, undefined);
  t.true(cdrom?.readonly);
  t.deepEqual([lv?.type, lv?.source.dev, lv?.source.file], ['block', '/dev/vg-b/data', undefined]);
  t.deepEqual([file?.type, file?.source.file, file?.source.dev], ['file', '/pool/vm1-vdc', undefined]);
  t.regex(xml.toString(), /<source dev='\/dev\/vg-b\/data'\/>/);
});

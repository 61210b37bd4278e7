/**
 * Every disk shape of issue 10 on real libvirt and QEMU. One guest carries, together: a qcow2 overlay on a backing
 * file, a sparse raw file, a volume of a dir pool, a block device, a read-only disk it shares with a second guest and
 * a cdrom with a local image. It moves to lab-b at its reboot; each disk is compared with `qemu-img compare` (the
 * source chain against the target copy); a retention of zero then removes what only it used and keeps the backing
 * file and the shared read-only disk, under the second guest that still runs. A shareable local disk and an nvme disk
 * are refused by `plan drain` and by `migrate --to`, with the same reasons.
 *
 * The block device is a loop device: this machine's kernel has no device-mapper, so no LVM logical volume can exist
 * here. rehome sees a `type='block'` disk either way; its copy lands in a volume of storage.blockPool on the target.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { assertGuestOn, rehome, rehomeJson } from './helpers-migration.js';
import { agentQuery, labSh, virsh, waitForAgent, whereRuns } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { hostRoot, labDir } from './paths.js';
import { run, runMaybe } from './run.js';

const IMAGES = '/var/lib/libvirt/images';
const POOL = 'rehome-pool';
const POOL_DIR = '/var/lib/libvirt/rehome-pool';
const MiB = 1024 * 1024;

const lab = useMigrationLab(test, {
  config: `storage:\n  blockPool: ${POOL}\nmigration:\n  retentionHours: 0\n`,
});

let loopDevice = '';
const loopFile = () => path.join(labDir(), 'disks-block.img');

/** A shell line on a lab host (its own mount namespace: its /var/lib/libvirt). */
async function onHost(host: string, line: string): Promise<string> {
  return (await labSh(['ssh', host, line], { timeoutMs: 120_000 })).stdout;
}

async function exists(host: string, file: string): Promise<boolean> {
  return (await labSh(['ssh', host, `test -e ${file}`], { reject: false })).exitCode === 0;
}

test.before('a dir pool on both hosts, a loop device for the block disk', async () => {
  for (const host of ['lab-a', 'lab-b']) {
    await virsh(host, ['pool-define-as', POOL, 'dir', '--target', POOL_DIR]);
    await virsh(host, ['pool-build', POOL]);
    await virsh(host, ['pool-start', POOL]);
  }
  await run(['truncate', '-s', '24M', loopFile()]);
  loopDevice = (await run(['losetup', '-f', '--show', loopFile()])).stdout.trim();
  await run(['qemu-io', '-f', 'raw', '-c', 'write -P 0x5e 3M 2M', loopDevice]);
});

test.after.always('the loop device goes', async () => {
  if (loopDevice) await runMaybe(['losetup', '-d', loopDevice]);
  await runMaybe(['rm', '-f', loopFile()]);
});

function diskXml(kind: string, target: string): string {
  switch (kind) {
    case 'overlay':
      return `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${IMAGES}/dk1-top.qcow2'/><target dev='${target}' bus='virtio'/></disk>`;
    case 'sparse':
      return `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${IMAGES}/dk1-sparse.raw'/><target dev='${target}' bus='virtio'/></disk>`;
    case 'volume':
      return `<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='${POOL}' volume='dk1-vol.qcow2'/><target dev='${target}' bus='virtio'/></disk>`;
    case 'block':
      return `<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='${loopDevice}'/><target dev='${target}' bus='virtio'/></disk>`;
    case 'golden':
      return `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${IMAGES}/dk-golden.raw'/><target dev='${target}' bus='virtio'/><readonly/></disk>`;
    case 'cdrom':
      return `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${IMAGES}/dk-tools.iso'/><target dev='${target}' bus='ide'/><readonly/></disk>`;
    case 'shareable':
      return `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${IMAGES}/dk-cluster.raw'/><target dev='${target}' bus='virtio'/><shareable/></disk>`;
    case 'nvme':
      return `<disk type='nvme' device='disk'><driver name='qemu' type='raw'/><source type='pci' managed='yes' namespace='1'><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source><target dev='${target}' bus='virtio'/></disk>`;
    default:
      throw new Error(kind);
  }
}

async function attach(host: string, vm: string, xml: string, flags: string[]): Promise<void> {
  const file = `/var/lib/libvirt/rehome-lab/${vm}-${Math.random().toString(36).slice(2)}.xml`;
  await labSh(['ssh', host, `cat > ${file}`], { input: xml });
  await virsh(host, ['attach-device', vm, file, ...flags]);
}

/** The images of the source disks, with their content, on lab-a. */
async function stageSourceImages(): Promise<void> {
  await onHost(
    'lab-a',
    [
      `cd ${IMAGES}`,
      'qemu-img create -q -f qcow2 dk-base.qcow2 32M',
      `qemu-io -f qcow2 -c 'write -P 0xab 0 2M' dk-base.qcow2 >/dev/null`,
      'qemu-img create -q -f qcow2 -b dk-base.qcow2 -F qcow2 dk1-top.qcow2',
      `qemu-io -f qcow2 -c 'write -P 0xcd 1M 2M' dk1-top.qcow2 >/dev/null`,
      'truncate -s 64M dk1-sparse.raw',
      `qemu-io -f raw -c 'write -P 0x11 8M 1M' dk1-sparse.raw >/dev/null`,
      'truncate -s 16M dk-golden.raw',
      `qemu-io -f raw -c 'write -P 0x60 0 1M' dk-golden.raw >/dev/null`,
      'truncate -s 2M dk-tools.iso',
      `qemu-io -f raw -c 'write -P 0x15 0 64k' dk-tools.iso >/dev/null`,
      'truncate -s 8M dk-cluster.raw',
      `virsh vol-create-as ${POOL} dk1-vol.qcow2 16M --format qcow2 >/dev/null`,
      `qemu-io -f qcow2 -c 'write -P 0x77 4M 1M' ${POOL_DIR}/dk1-vol.qcow2 >/dev/null`,
    ].join(' && '),
  );
}

interface PlanJson {
  decisions: {
    vm: string;
    status: string;
    blockers?: { kind: string; reason: string; code?: string }[];
  }[];
}

test.serial(
  'a shareable local disk and an nvme disk: refused by plan and by migrate --to, same reasons',
  async (t) => {
    await stageSourceImages();
    const shared = await lab.bootedGuest('dk3');
    await attach('lab-a', shared.name, diskXml('shareable', 'vdb'), ['--live', '--persistent']);
    // An nvme disk cannot start here (no such PCI device): a defined, shut-off guest is enough for both checks.
    const nvmeXml = `<domain type='qemu'><name>dk4</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>${diskXml('nvme', 'vda')}</devices></domain>`;
    await labSh(['ssh', 'lab-a', 'cat > /var/lib/libvirt/rehome-lab/dk4.xml'], { input: nvmeXml });
    await virsh('lab-a', ['define', '/var/lib/libvirt/rehome-lab/dk4.xml']);
    try {
      // Exit 10: the plan has blocked VMs (what this checks).
      const planned = await rehome(['plan', 'drain', 'lab-a', '--json'], { reject: false });
      const plan = JSON.parse(planned.stdout) as PlanJson;
      for (const [vm, code] of [
        ['dk3', 'refuse-shareable-local'],
        ['dk4', 'refuse-unsupported-type'],
      ] as const) {
        const decision = plan.decisions.find((d) => d.vm === vm);
        t.is(decision?.status, 'blocked', `${vm} in the plan: ${JSON.stringify(decision)}`);
        const blocker = decision?.blockers?.find((b) => b.kind === 'disk');
        t.is(blocker?.code, code);
        const refused = await rehome(['migrate', vm, '--to', 'lab-b', '--json'], { reject: false });
        t.not(refused.exitCode, 0, `migrate --to ${vm} was not refused`);
        const said = `${refused.stdout}${refused.stderr}`;
        t.true(said.includes('disk-refused'), said);
        t.true(said.includes(code), said);
        // The plan's reason is "disk X cannot be moved: <policy reason>": the same policy reason in both.
        const reason = blocker?.reason.replace(/^disk \S+ cannot be moved: /, '') ?? '?';
        t.true(
          said.includes(JSON.stringify(reason).slice(1, -1)),
          `plan said "${reason}", migrate said ${said}`,
        );
      }
      t.deepEqual(await whereRuns('dk3'), ['lab-a'], 'the refused guest still runs where it ran');
      t.false(await exists('lab-b', `${IMAGES}/dk3-vdb.raw`), 'nothing was copied to lab-b');
    } finally {
      await virsh('lab-a', ['undefine', 'dk4'], { reject: false });
    }
  },
);

interface MigrateJson {
  diskPolicy: { target: string; action: string; code: string; reason: string }[];
  disks: { disk: string; sourcePath: string; targetPath: string }[];
}

interface StatusJson {
  migrations: {
    retained: {
      until: string;
      removedAt?: string;
      outcome?: { path: string; action: string; reason: string; bytes?: number }[];
    } | null;
  }[];
}

test.serial(
  'every local disk shape moves right; retention keeps the backing file and the shared read-only disk',
  async (t) => {
    const guest = await lab.bootedGuest('dk1');
    const other = await lab.bootedGuest('dk2');
    await attach('lab-a', other.name, diskXml('golden', 'vdb'), ['--live', '--persistent']);
    // All of dk1's disks in its definition, then one boot with them (an IDE cdrom cannot be hot-plugged).
    const shapes = [
      ['overlay', 'vdb'],
      ['sparse', 'vdc'],
      ['volume', 'vdd'],
      ['block', 'vde'],
      ['golden', 'vdf'],
      ['cdrom', 'hdc'],
    ] as const;
    for (const [kind, dev] of shapes) await attach('lab-a', guest.name, diskXml(kind, dev), ['--config']);
    await virsh('lab-a', ['destroy', guest.name]);
    await virsh('lab-a', ['start', guest.name]);
    const before = await waitForAgent(guest.ip, { minBoot: 2, timeoutMs: 120_000 });

    // A volume of that name on the target: a blocker for the plan and for the move, never an overwrite.
    await virsh('lab-b', ['vol-create-as', POOL, 'dk1-vol.qcow2', '1M', '--format', 'qcow2']);
    const planned = await rehome(['plan', 'drain', 'lab-a', '--json', '--explain'], { reject: false });
    const dk1 = (JSON.parse(planned.stdout) as PlanJson).decisions.find((d) => d.vm === guest.name);
    t.is(dk1?.status, 'blocked');
    t.regex(JSON.stringify(dk1), /volume dk1-vol\.qcow2 already exists in pool rehome-pool/);
    const taken = await rehome(['migrate', guest.name, '--to', 'lab-b', '--json'], { reject: false });
    t.not(taken.exitCode, 0);
    t.regex(`${taken.stdout}${taken.stderr}`, /already exists in pool rehome-pool/);
    t.regex(
      (await virsh('lab-b', ['vol-info', '--pool', POOL, 'dk1-vol.qcow2'])).stdout,
      /Capacity:\s+1\.00 MiB/,
    );
    await virsh('lab-b', ['vol-delete', '--pool', POOL, 'dk1-vol.qcow2']);
    t.deepEqual(await whereRuns(guest.name), ['lab-a']);

    const moved = await rehomeJson<MigrateJson>(['migrate', guest.name, '--to', 'lab-b']);
    const codes = Object.fromEntries(moved.diskPolicy.map((d) => [d.target, d.code]));
    t.like(codes, {
      vda: 'copy-qcow2',
      vdb: 'copy-qcow2-chain-flattened',
      vdc: 'copy-raw-sparse',
      vdd: 'copy-pool-volume',
      vde: 'copy-block-to-volume',
      vdf: 'copy-readonly',
      hdc: 'copy-removable-media',
    });
    const rebooted = await rehomeJson<{ outcome: string }>(['reboot', guest.name]);
    t.is(rebooted.outcome, 'done');
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);

    // Byte for byte at the guest-visible level: the source chain against the target copy.
    const a = (p: string) => path.join(hostRoot('lab-a'), p);
    const b = (p: string) => path.join(hostRoot('lab-b'), p);
    const sourceChain = JSON.stringify({
      driver: 'qcow2',
      file: { driver: 'file', filename: a(`${IMAGES}/dk1-top.qcow2`) },
      backing: { driver: 'qcow2', file: { driver: 'file', filename: a(`${IMAGES}/dk-base.qcow2`) } },
    });
    const pairs: [string, string, string, string][] = [
      ['vdb', `json:${sourceChain}`, 'qcow2', b(`${IMAGES}/dk1-vdb.qcow2`)],
      ['vdc', a(`${IMAGES}/dk1-sparse.raw`), 'raw', b(`${IMAGES}/dk1-vdc.raw`)],
      ['vdd', a(`${POOL_DIR}/dk1-vol.qcow2`), 'qcow2', b(`${POOL_DIR}/dk1-vol.qcow2`)],
      ['vde', loopDevice, 'raw', b(`${POOL_DIR}/dk1-vde`)],
      ['vdf', a(`${IMAGES}/dk-golden.raw`), 'raw', b(`${IMAGES}/dk1-vdf.raw`)],
      ['hdc', a(`${IMAGES}/dk-tools.iso`), 'raw', b(`${IMAGES}/dk1-hdc.raw`)],
    ];
    for (const [dev, source, format, target] of pairs) {
      const targetFormat = target.endsWith('.qcow2') ? 'qcow2' : 'raw';
      const sourceFormat = source.startsWith('json:') ? [] : ['-f', format];
      const result = await runMaybe([
        'qemu-img',
        'compare',
        '-U',
        ...sourceFormat,
        '-F',
        targetFormat,
        source,
        target,
      ]);
      t.is(result.exitCode, 0, `${dev}: ${result.stdout}${result.stderr}`);
    }
    // The sparse raw copy stayed sparse: 64 MiB apparent, about 1 MiB written.
    const sparse = await stat(b(`${IMAGES}/dk1-vdc.raw`));
    t.is(sparse.size, 64 * MiB);
    t.true(sparse.blocks * 512 < 16 * MiB, `the raw copy allocates ${sparse.blocks * 512} bytes`);
    // The definition on lab-b still names the pool volume.
    t.regex(
      (await virsh('lab-b', ['dumpxml', guest.name])).stdout,
      /<source pool='rehome-pool' volume='dk1-vol.qcow2'/,
    );

    // Retention 0: the next reconcile removes what only dk1 used and keeps what is shared.
    await rehomeJson(['reconcile']);
    const retained = (await rehomeJson<StatusJson>(['status', guest.name])).migrations.at(-1)?.retained;
    t.truthy(retained?.removedAt, JSON.stringify(retained));
    const outcome = Object.fromEntries((retained?.outcome ?? []).map((o) => [o.path, o.action]));
    t.like(outcome, {
      [`${IMAGES}/dk1-top.qcow2`]: 'removed',
      [`${IMAGES}/dk1-sparse.raw`]: 'removed',
      [`${POOL_DIR}/dk1-vol.qcow2`]: 'removed',
      [loopDevice]: 'skipped',
      [`${IMAGES}/dk-golden.raw`]: 'skipped',
      [`${IMAGES}/dk-tools.iso`]: 'skipped',
    });
    t.false(await exists('lab-a', `${IMAGES}/dk1-top.qcow2`), 'the overlay only dk1 used is removed');
    t.false(await exists('lab-a', `${POOL_DIR}/dk1-vol.qcow2`), 'the pool volume only dk1 used is removed');
    t.true(await exists('lab-a', `${IMAGES}/dk-base.qcow2`), 'the backing file must stay');
    t.true(await exists('lab-a', `${IMAGES}/dk-golden.raw`), 'the shared read-only disk must stay');
    t.true(await exists('lab-a', `${IMAGES}/dk-tools.iso`), 'the ISO must stay');
    t.deepEqual(await whereRuns(other.name), ['lab-a'], 'the second guest still runs');
    t.true((await agentQuery(other.ip)).counter > 0);
    t.deepEqual(await whereRuns(guest.name), ['lab-b']);
  },
);

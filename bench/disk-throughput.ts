/**
 * bench/disk-throughput (issue 10): the copy rate of a raw file and of a block device against a qcow2 file, as
 * ratios measured in one run.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/disk-throughput.ts [--runs 3] [--mib 256]
 *
 * Three guests on lab-a, each with one data disk `vdb` holding the same MiB of written data (a non-zero pattern):
 * a qcow2 file, a sparse raw file, and a block device (a loop device: this machine's kernel has no device-mapper, so
 * no LVM logical volume can exist; rehome handles a `type='block'` disk the same way). Each run moves every guest
 * once, interleaved (`rehome migrate --to lab-b`, then `rehome cancel`), and takes the audit log's `start-mirror` +
 * `wait-ready` times: blockcopy call → every job ready. The rate is (vdb's data + vda's allocation) ÷ that time; the
 * printout gives medians and the ratios raw ÷ qcow2 and block ÷ qcow2, and says whether any is below 0.9.
 * Run `npm run build` first.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { rehome, rehomeJson } from '../test/lab/helpers-migration.js';
import { appendOperatorConfig } from '../test/lab/helpers-notify.js';
import { defineGuest, labSh, virsh, waitForAgent } from '../test/lab/lab.js';
import { labDir } from '../test/lab/paths.js';
import { run, runMaybe } from '../test/lab/run.js';
import { log, mirrorStepsMs, withLab } from './lib/lab-session.js';
import { median } from './lib/stats.js';

const IMAGES = '/var/lib/libvirt/images';
const POOL = 'bench-pool';
const POOL_DIR = '/var/lib/libvirt/bench-pool';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, mib: { type: 'string', default: '256' } },
});
const runs = Number(values.runs);
const mib = Number(values.mib);

async function ssh(host: string, script: string, input?: string): Promise<string> {
  return (
    await labSh(['ssh', host, script], { timeoutMs: 600_000, ...(input ? { input } : {}) })
  ).stdout.trim();
}

async function attach(vm: string, xml: string): Promise<void> {
  const file = `/var/lib/libvirt/rehome-lab/${vm}-vdb.xml`;
  await ssh('lab-a', `cat > ${file}`, xml);
  await virsh('lab-a', ['attach-device', vm, file, '--live', '--persistent']);
}

/** blockcopy call → every job ready, in ms, from the audit log of one `rehome migrate`; then cancelled. */
async function mirrorMs(vm: string): Promise<number> {
  await rehomeJson(['migrate', vm, '--to', 'lab-b']);
  const ms = await mirrorStepsMs(vm);
  await rehome(['cancel', vm]);
  return ms;
}

const loopFile = path.join(labDir(), 'bench-block.img');
let loop = '';

await withLab(2, async () => {
  for (const host of ['lab-a', 'lab-b']) {
    await virsh(host, ['pool-define-as', POOL, 'dir', '--target', POOL_DIR]);
    await virsh(host, ['pool-build', POOL]);
    await virsh(host, ['pool-start', POOL]);
  }
  await appendOperatorConfig(`storage:\n  blockPool: ${POOL}\n`);
  const write = `write -P 0xab 0 ${mib}M`;
  await ssh(
    'lab-a',
    [
      `cd ${IMAGES}`,
      `qemu-img create -q -f qcow2 bq-data.qcow2 ${mib * 2}M`,
      `qemu-io -f qcow2 -c '${write}' bq-data.qcow2 >/dev/null`,
      `truncate -s ${mib * 2}M br-data.raw`,
      `qemu-io -f raw -c '${write}' br-data.raw >/dev/null`,
    ].join(' && '),
  );
  await run(['truncate', '-s', `${mib * 2}M`, loopFile]);
  loop = (await run(['losetup', '-f', '--show', loopFile])).stdout.trim();
  await run(['qemu-io', '-f', 'raw', '-c', write, loop]);
  try {
    const shapes = {
      qcow2: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${IMAGES}/bq-data.qcow2'/><target dev='vdb' bus='virtio'/></disk>`,
      raw: `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${IMAGES}/br-data.raw'/><target dev='vdb' bus='virtio'/></disk>`,
      block: `<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='${loop}'/><target dev='vdb' bus='virtio'/></disk>`,
    } as const;
    const names = { qcow2: 'bq', raw: 'br', block: 'bl' } as const;
    for (const shape of ['qcow2', 'raw', 'block'] as const) {
      const guest = await defineGuest(names[shape], { host: 'lab-a' });
      await waitForAgent(guest.ip, { timeoutMs: 180_000 });
      await attach(guest.name, shapes[shape]);
    }
    const times: Record<'qcow2' | 'raw' | 'block', number[]> = { qcow2: [], raw: [], block: [] };
    for (let i = 0; i < runs; i++) {
      for (const shape of ['qcow2', 'raw', 'block'] as const) {
        const ms = await mirrorMs(names[shape]);
        times[shape].push(ms);
        log(`run ${i + 1} ${shape}: ${ms} ms`);
      }
    }
    const rate = (shape: 'qcow2' | 'raw' | 'block') => mib / (median(times[shape]) / 1000);
    const lines = [
      `disk-throughput: ${runs} runs, ${mib} MiB of data per disk (medians; MiB/s of vdb's data)`,
    ];
    for (const shape of ['qcow2', 'raw', 'block'] as const) {
      lines.push(`  ${shape.padEnd(6)} ${times[shape].join(', ')} ms → ${rate(shape).toFixed(0)} MiB/s`);
    }
    const rawRatio = rate('raw') / rate('qcow2');
    const blockRatio = rate('block') / rate('qcow2');
    lines.push(`  raw ÷ qcow2 = ${rawRatio.toFixed(2)}; block ÷ qcow2 = ${blockRatio.toFixed(2)}`);
    const below = [...(rawRatio < 0.9 ? ['raw'] : []), ...(blockRatio < 0.9 ? ['block'] : [])];
    lines.push(
      below.length > 0 ? `  below 0.9 of the qcow2 rate: ${below.join(', ')}` : '  no shape below 0.9',
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await runMaybe(['losetup', '-d', loop]);
    await runMaybe(['rm', '-f', loopFile]);
  }
});

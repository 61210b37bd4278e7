/**
 * bench/bandwidth: a `--bandwidth` budget that counts the bytes sent (issue 15). A guest on a 4 GiB qcow2 holding
 * 256 MiB of data is block-copied into a TLS NBD export on lab-b (the engine's own qemu-nbd argv and destination XML),
 * three times in the same run:
 *   - baseline: the old behaviour, the job's speed set to the budget once (QEMU counts zero regions against it);
 *   - governed: the copy as the engine starts it (its buffer sized to the budget, mirrorBufSize), its speed
 *     driven through the first pass by src/sync/mirror-budget.ts from the source image's allocation map, the
 *     governor reading and setting the job through virsh;
 *   - engine: `rehome migrate --bandwidth` itself (its own export, its governor on its libvirt connection); its time
 *     is the audit log's start-mirror + wait-ready, its wire bytes sampled over the same span; then it is cancelled.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/bandwidth.ts [--size 4G] [--data 256] [--bandwidth 64M] [--native]
 *     [--only engine,governed]   (the copies to make, of baseline, governed, engine, native)
 *
 * --native adds a third copy, the reference for what QEMU does by itself: the same disk on a guest defined with
 * `<driver discard='unmap'/>`, whose copy QEMU sizes to the allocated part and whose zero writes it never counts.
 *
 * Time to ready: on lab-a, from before `virsh blockcopy` until the job's cur == end with end ≥ the disk's size (a
 * shell loop polling `virsh blockjob --raw` every 50 ms). Bytes on the wire: lab-a's TCP bytes_acked towards lab-b
 * (only the NBD connection goes there) on lab-a (`ss -ti`, sampled every 100 ms inside lab-a's namespace), so TLS and NBD framing count; the highest rate over
 * any window of ≥ 1 s between samples is printed against the budget. In the governed run the governor reads and sets
 * the job with `virsh` over one multiplexed SSH connection (the engine uses its libvirt RPC connection instead).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { quoteArgv } from '../src/host/quote.js';
import { parseBandwidth } from '../src/migration/index.js';
import { nbdDestinationXml } from '../src/sync/block-copy.js';
import {
  type BudgetClient,
  DataMap,
  jobSpeedUnder,
  MirrorBudget,
  mirrorBufSize,
} from '../src/sync/mirror-budget.js';
import { qemuNbdArgv } from '../src/sync/nbd-export.js';
import { certificateDn } from '../src/sync/tls-identity.js';
import { guestDiskPath, leaseFor, macForName, stageGuest } from '../test/lab/guest.js';
import { mirrorSteps, rehome, rehomeJson } from '../test/lab/helpers-migration.js';
import { labSh, waitForAgent } from '../test/lab/lab.js';
import { hostAddress, hostRoot, LAB_CERT_DIR } from '../test/lab/paths.js';
import { defineGuestFromDisk, filledDisk, removeGuest } from './lib/guests.js';
import { log, withLab } from './lib/lab-session.js';

const MiB = 1024 * 1024;
const PORT = 10990;
const EXPORT = 'bench-bw';
const TARGET_IMAGE = '/var/lib/libvirt/images/bench-bw.qcow2';
const NBD_PID = '/run/bench-bw-nbd.pid';
const DEST_XML = '/var/lib/libvirt/rehome-lab/bench-bw-dest.xml';
const STOP_SAMPLER = '/run/bench-bw-stop';
const CONTROL = [
  '-o',
  'ControlMaster=auto',
  '-o',
  'ControlPath=/tmp/rehome-bench-bw-%h',
  '-o',
  'ControlPersist=300',
];

async function ssh(host: string, script: string, timeoutMs = 600_000): Promise<string> {
  return (await labSh(['ssh', ...CONTROL, host, script], { timeoutMs })).stdout.trim();
}

/**
 * lab-a's TCP bytes_acked towards lab-b, every 100 ms, until STOP_SAMPLER exists: only a copy's NBD connection goes
 * from lab-a to lab-b (the operator talks to both over SSH), whichever port its export has.
 */
function startSampler(): Promise<{ at: number; bytes: number }[]> {
  const script = [
    `rm -f ${STOP_SAMPLER}`,
    `while [ ! -e ${STOP_SAMPLER} ]; do echo "T $(date +%s%N)"; ss -tinH state established '( dst ${hostAddress('lab-b')} )'; sleep 0.1; done`,
  ].join('; ');
  return ssh('lab-a', script).then((out) => {
    const samples: { at: number; bytes: number }[] = [];
    for (const line of out.split('\n')) {
      const time = /^T (\d+)/.exec(line);
      if (time) samples.push({ at: Number(time[1]) / 1e6, bytes: 0 });
      const acked = /bytes_acked:(\d+)/.exec(line);
      const last = samples.at(-1);
      if (acked && last) last.bytes += Number(acked[1]);
    }
    return samples;
  });
}

/**
 * Starts the copy on lab-a and waits there until cur == end with end ≥ minEnd (the first pass done); returns both
 * times (ms since epoch).
 */
async function copyUntilReady(
  vm: string,
  minEnd: number,
  bandwidth: number,
  bufSize?: number,
): Promise<{ start: number; ready: number }> {
  const script = [
    'start=$(date +%s%N)',
    quoteArgv([
      'virsh',
      '-q',
      'blockcopy',
      vm,
      'vda',
      '--xml',
      DEST_XML,
      '--transient-job',
      '--bytes',
      '--bandwidth',
      String(bandwidth),
      ...(bufSize ? ['--buf-size', String(bufSize)] : []),
    ]),
    `while :; do r=$(virsh blockjob ${vm} vda --raw); cur=$(echo "$r" | sed -n 's/.*cur=\\([0-9]*\\).*/\\1/p'); end=$(echo "$r" | sed -n 's/.*end=\\([0-9]*\\).*/\\1/p'); if [ -n "$cur" ] && [ "$cur" = "$end" ] && [ "$end" -ge ${minEnd} ]; then break; fi; sleep 0.05; done`,
    'echo "$start $(date +%s%N)"',
  ].join('; ');
  const [start, ready] = (await ssh('lab-a', script)).split(' ').map((ns) => Number(ns) / 1e6);
  return { start: start as number, ready: ready as number };
}

/** The governor's view of the job, through virsh on lab-a. */
function virshClient(vm: string): BudgetClient {
  return {
    async getBlockJobInfo() {
      const raw = await ssh('lab-a', quoteArgv(['virsh', 'blockjob', vm, 'vda', '--raw']), 10_000);
      const cur = /cur=(\d+)/.exec(raw);
      const end = /end=(\d+)/.exec(raw);
      if (!cur || !end) return null;
      return { type: 2, bandwidth: 0n, cur: BigInt(cur[1] as string), end: BigInt(end[1] as string) };
    },
    async blockJobSetSpeed(_domain, disk, bandwidth) {
      await ssh(
        'lab-a',
        quoteArgv(['virsh', 'blockjob', vm, disk, '--bytes', '--bandwidth', String(bandwidth)]),
        10_000,
      );
    },
  };
}

interface RunFigures {
  seconds: number;
  wireBytes: number;
  maxPerSecond: number;
  speeds: string[];
}

/** The highest rate over windows of at least 1 s between samples inside [from, to]. */
function maxRate(samples: { at: number; bytes: number }[], from: number, to: number): number {
  const inside = samples.filter((s) => s.at >= from - 200 && s.at <= to + 200);
  let max = 0;
  for (let i = 0; i < inside.length; i++) {
    const a = inside[i] as { at: number; bytes: number };
    const b = inside.slice(i + 1).find((s) => s.at - a.at >= 1000);
    if (b) max = Math.max(max, ((b.bytes - a.bytes) * 1000) / (b.at - a.at));
  }
  return max;
}

async function freshExport(virtualSize: number): Promise<void> {
  await ssh(
    'lab-b',
    `rm -f ${TARGET_IMAGE}; ${quoteArgv(['qemu-img', 'create', '-q', '-f', 'qcow2', TARGET_IMAGE, String(virtualSize)])}`,
  );
  const nbd = qemuNbdArgv(
    {
      host: 'lab-b',
      disk: 'vda',
      bindAddress: hostAddress('lab-b'),
      imagePath: TARGET_IMAGE,
      virtualSizeBytes: virtualSize,
      exportName: EXPORT,
      certDir: LAB_CERT_DIR,
      allowedClientDn: certificateDn(await ssh('lab-a', `cat ${LAB_CERT_DIR}/client-cert.pem`), 'lab-a'),
      runDir: '/run',
    },
    PORT,
    NBD_PID,
  );
  await ssh('lab-b', quoteArgv(nbd));
}

type Mode = 'baseline' | 'governed' | 'engine' | 'native';

/** `rehome migrate --bandwidth`: the time is the engine's own (blockcopy call → ready, from its audit log). */
async function engineRun(vm: string, budget: number): Promise<RunFigures> {
  const sampling = startSampler();
  try {
    await rehomeJson(['migrate', vm, '--to', 'lab-b', '--bandwidth', `${Math.round(budget / 1024)}K`]);
    const copy = await mirrorSteps(vm);
    await ssh('lab-a', `touch ${STOP_SAMPLER}`);
    const samples = await sampling;
    const last = samples.filter((s) => s.at <= copy.to).at(-1);
    return {
      seconds: copy.ms / 1000,
      wireBytes: last?.bytes ?? 0,
      maxPerSecond: maxRate(samples, copy.from, copy.to),
      speeds: [],
    };
  } finally {
    await ssh('lab-a', `touch ${STOP_SAMPLER}`);
    await rehome(['cancel', vm]);
  }
}

async function oneRun(vm: string, map: DataMap, budget: number, mode: Mode): Promise<RunFigures> {
  if (mode === 'engine') return engineRun(vm, budget);
  await freshExport(map.size);
  const sampling = startSampler();
  const speeds: string[] = [];
  const began = Date.now();
  const governed = mode === 'governed';
  try {
    // A discard=unmap guest's job counts only the allocated part (end < size): ready at the first cur == end.
    const minEnd = mode === 'native' ? 1 : map.size;
    // The governed copy starts as the engine's does: at its speed over data, with a buffer sized to it.
    const speed = governed ? jobSpeedUnder(budget) : budget;
    const copy = copyUntilReady(vm, minEnd, speed, mode === 'baseline' ? undefined : mirrorBufSize(speed));
    let governor: MirrorBudget | undefined;
    if (governed) {
      // The job exists once virsh blockcopy returns: wait for it, then govern.
      const client = virshClient(vm);
      while (!(await client.getBlockJobInfo({ name: vm, uuid: '', id: -1 }, 'vda'))) {}
      governor = new MirrorBudget(client, { name: vm, uuid: '', id: -1 }, 'vda', map, budget, {
        onSpeed: (speed, cur) => {
          const to = speed ? `${(speed / MiB).toFixed(0)} MiB/s` : 'unlimited';
          speeds.push(
            `${((Date.now() - began) / 1000).toFixed(2)} s at ${(cur / MiB).toFixed(0)} MiB: ${to}`,
          );
        },
      }).start();
    }
    const { start, ready } = await copy;
    await governor?.stop();
    await ssh('lab-a', `touch ${STOP_SAMPLER}`);
    const samples = await sampling;
    const last = samples.filter((s) => s.at <= ready).at(-1);
    return {
      seconds: (ready - start) / 1000,
      wireBytes: last?.bytes ?? 0,
      maxPerSecond: maxRate(samples, start, ready),
      speeds,
    };
  } finally {
    await ssh('lab-a', `touch ${STOP_SAMPLER}; virsh -q blockjob ${vm} vda --abort || true`);
    await ssh('lab-b', `kill $(cat ${NBD_PID}) 2>/dev/null; sleep 0.3; rm -f ${TARGET_IMAGE} ${NBD_PID}`);
  }
}

const LABELS: Record<Mode, string> = {
  baseline: 'baseline (plain job speed)',
  governed: 'governed (mirror-budget through virsh)',
  engine: 'rehome migrate --bandwidth',
  native: "QEMU's own (guest disk discard='unmap', plain speed)",
};

/** The same disk on a guest defined with discard='unmap' (bw1 stopped first, so one guest runs at a time). */
async function discardGuest(disk: string): Promise<string> {
  await removeGuest('bw1', ['lab-a']);
  const name = 'bw3';
  const mac = macForName(name);
  const ip = await leaseFor(name, mac);
  const xml = await stageGuest('lab-a', name, mac, disk);
  const file = path.join(hostRoot('lab-a'), xml);
  const plain = "<driver name='qemu' type='qcow2'/>";
  const text = await readFile(file, 'utf8');
  if (!text.includes(plain)) throw new Error('the lab guest XML has no plain qcow2 driver line');
  await writeFile(file, text.replace(plain, "<driver name='qemu' type='qcow2' discard='unmap'/>"));
  await labSh(['ssh', 'lab-a', quoteArgv(['virsh', 'define', xml])]);
  await labSh(['ssh', 'lab-a', quoteArgv(['virsh', 'start', name])]);
  await waitForAgent(ip, { timeoutMs: 180_000 });
  return name;
}

async function main(size: string, dataMiB: number, budget: number, modes: Mode[]): Promise<void> {
  log(`making the ${size} disk with ${dataMiB} MiB of data (cached)`);
  const disk = await filledDisk(size, dataMiB);
  const guest = await defineGuestFromDisk('bw1', 'lab-a', disk);
  await waitForAgent(guest.ip, { timeoutMs: 180_000 });
  const map = DataMap.fromQemuImgMap(
    await ssh(
      'lab-a',
      quoteArgv(['qemu-img', 'map', '--output=json', '-U', '-f', 'qcow2', guestDiskPath(guest.name)]),
    ),
  );
  await writeFile(
    path.join(hostRoot('lab-a'), DEST_XML),
    nbdDestinationXml({ exportName: EXPORT, address: hostAddress('lab-b'), port: PORT }),
  );
  const ideal = map.dataBytes / budget;
  const mib = (bytes: number) => (bytes / MiB).toFixed(1);
  console.log(
    `source: ${size} qcow2, ${mib(map.dataBytes)} MiB of data (qemu-img map), budget ${mib(budget)} MiB/s: ` +
      `data ÷ budget = ${ideal.toFixed(2)} s`,
  );
  let vm = guest.name;
  for (const mode of modes) {
    const label = LABELS[mode];
    if (mode === 'native') vm = await discardGuest(disk);
    log(`${label}: copying`);
    const run = await oneRun(vm, map, budget, mode);
    const governed = mode === 'governed';
    const wire =
      `${mib(run.wireBytes)} MiB on the wire; busiest second ${mib(run.maxPerSecond)} MiB/s = ` +
      `${(run.maxPerSecond / budget).toFixed(2)} × budget (goal ≤ 1.1)`;
    console.log(
      `  ${label}: ready in ${run.seconds.toFixed(2)} s = ${(run.seconds / ideal).toFixed(2)} × data ÷ budget ` +
        `(goal ≤ 1.2); ${wire}${governed ? `; speeds set: ${run.speeds.join(', ')}` : ''}`,
    );
  }
}

const { values } = parseArgs({
  options: {
    size: { type: 'string' },
    data: { type: 'string' },
    bandwidth: { type: 'string' },
    native: { type: 'boolean' },
    only: { type: 'string' },
  },
});
const size = values.size ?? '4G';
const dataMiB = Number(values.data ?? 256);
const budget = parseBandwidth(values.bandwidth ?? '64M');
console.log(`bench/bandwidth, ${new Date().toISOString()}`);
const modes = (values.only?.split(',') ?? ['baseline', 'governed', 'engine']) as Mode[];
if (values.native) modes.push('native');
const unknown = modes.filter((mode) => !(mode in LABELS));
if (unknown.length > 0)
  throw new Error(`--only takes baseline, governed, engine, native; not ${unknown.join(', ')}`);
await withLab(2, () => main(size, dataMiB, budget, modes));

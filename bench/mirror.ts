/**
 * bench/mirror: P3. Mirror throughput (rehome's block copy until ready, TLS NBD export on the target) ÷
 * `qemu-img convert -n --target-is-zero` from the same source image into the same kind of export (same qemu-nbd
 * argv, same certificates, same hosts); and bytes sent ÷ bytes allocated for a sparse disk (4 GiB, 512 MiB of data).
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/mirror.ts [--runs 3]
 *
 * Mirror time: the audit log's `start-mirror` + `wait-ready` step times of `rehome migrate` (blockcopy call → job
 * ready). convert time: `date` before and after qemu-img on the source host. Both move the same allocated data, so the
 * throughput ratio is convert time ÷ mirror time. Bytes sent: data clusters in the target image after the copy
 * (`qemu-img map`; zero clusters carry no data), against data clusters in the source image.
 */
import { parseArgs } from 'node:util';
import { quoteArgv } from '../src/host/quote.js';
import { qemuNbdArgv } from '../src/sync/nbd-export.js';
import { certificateDn } from '../src/sync/tls-identity.js';
import { guestDiskPath } from '../test/lab/guest.js';
import { rehome, rehomeJson } from '../test/lab/helpers-migration.js';
import { labSh, waitForAgent } from '../test/lab/lab.js';
import { hostAddress, LAB_CERT_DIR } from '../test/lab/paths.js';
import { defineGuestFromDisk, filledDisk } from './lib/guests.js';
import { log, mirrorStepsMs, withLab } from './lib/lab-session.js';
import { median, ratio } from './lib/stats.js';

const MiB = 1024 * 1024;
const CONVERT_IMAGE = '/var/lib/libvirt/images/bench-convert.qcow2';
const CONVERT_PID = '/run/rehome-bench-convert.pid';

interface MapEntry {
  length: number;
  data: boolean;
}

async function ssh(host: string, script: string): Promise<string> {
  return (await labSh(['ssh', host, script], { timeoutMs: 600_000 })).stdout.trim();
}

/** Bytes of data clusters (not holes, not zero clusters) of an image, read with -U (it may be in use). */
async function dataBytes(host: string, image: string): Promise<number> {
  const map = JSON.parse(
    await ssh(host, quoteArgv(['qemu-img', 'map', '-U', '--output=json', image])),
  ) as MapEntry[];
  return map.filter((entry) => entry.data).reduce((sum, entry) => sum + entry.length, 0);
}

async function actualSize(host: string, image: string): Promise<number> {
  const info = JSON.parse(await ssh(host, quoteArgv(['qemu-img', 'info', '-U', '--output=json', image])));
  return info['actual-size'] as number;
}

async function mirrorRun(vm: string): Promise<{ ms: number; sent: number }> {
  await rehomeJson(['migrate', vm, '--to', 'lab-b']);
  const ms = await mirrorStepsMs(vm);
  const image = await ssh('lab-b', `ls /var/lib/libvirt/images/${vm}-*.qcow2`);
  const sent = await dataBytes('lab-b', image);
  await rehome(['cancel', vm]);
  return { ms, sent };
}

async function convertRun(source: string, virtualSize: number): Promise<{ ms: number; sent: number }> {
  const address = hostAddress('lab-b');
  const port = 10990;
  const exportName = 'bench-convert';
  await ssh(
    'lab-b',
    quoteArgv(['qemu-img', 'create', '-q', '-f', 'qcow2', CONVERT_IMAGE, String(virtualSize)]),
  );
  const nbd = qemuNbdArgv(
    {
      host: 'lab-b',
      disk: 'vda',
      bindAddress: address,
      imagePath: CONVERT_IMAGE,
      virtualSizeBytes: virtualSize,
      exportName,
      certDir: LAB_CERT_DIR,
      allowedClientDn: certificateDn(
        await ssh('lab-a', `cat ${LAB_CERT_DIR}/client-cert.pem`),
        'the client certificate of lab-a',
      ),
      runDir: '/run',
    },
    port,
    CONVERT_PID,
  );
  await ssh('lab-b', quoteArgv(nbd));
  try {
    const convert = quoteArgv([
      'qemu-img',
      'convert',
      '-n',
      '--target-is-zero',
      '-U',
      '-f',
      'qcow2',
      source,
      '--object',
      `tls-creds-x509,id=tls0,endpoint=client,dir=${LAB_CERT_DIR}`,
      '--target-image-opts',
      `driver=raw,file.driver=nbd,file.host=${address},file.port=${port},file.export=${exportName},file.tls-creds=tls0`,
    ]);
    const [start, end] = (await ssh('lab-a', `date +%s%N; ${convert}; date +%s%N`)).split('\n').map(Number);
    const sent = await dataBytes('lab-b', CONVERT_IMAGE);
    return { ms: ((end as number) - (start as number)) / 1e6, sent };
  } finally {
    await ssh('lab-b', `kill $(cat ${CONVERT_PID}); sleep 0.3; rm -f ${CONVERT_IMAGE} ${CONVERT_PID}`);
  }
}

async function main(runs: number): Promise<void> {
  log('making the 4 GiB disk with 512 MiB of data (cached)');
  const disk = await filledDisk('4G', 512);
  const guest = await defineGuestFromDisk('b3', 'lab-a', disk);
  await waitForAgent(guest.ip, { timeoutMs: 180_000 });
  const source = guestDiskPath(guest.name);
  const allocated = await dataBytes('lab-a', source);
  const actual = await actualSize('lab-a', source);
  const virtualSize = 4 * 1024 * MiB;
  const mirrors: { ms: number; sent: number }[] = [];
  const converts: { ms: number; sent: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const mirror = await mirrorRun(guest.name);
    mirrors.push(mirror);
    log(`mirror ${mirror.ms} ms, ${(mirror.sent / MiB).toFixed(1)} MiB of data in the target`);
    const convert = await convertRun(source, virtualSize);
    converts.push(convert);
    log(`convert ${convert.ms.toFixed(0)} ms, ${(convert.sent / MiB).toFixed(1)} MiB of data in the target`);
  }
  const mirrorMs = median(mirrors.map((m) => m.ms));
  const convertMs = median(converts.map((c) => c.ms));
  const rate = (ms: number) => `${(allocated / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
  const list = (xs: { ms: number }[]) => xs.map((x) => x.ms.toFixed(0)).join(', ');
  console.log(
    `P3 — source: 4 GiB qcow2, ${(allocated / MiB).toFixed(1)} MiB data clusters (actual-size ${(actual / MiB).toFixed(1)} MiB), guest running`,
  );
  console.log(
    `  mirror until ready: median ${mirrorMs.toFixed(0)} ms (${list(mirrors)}) = ${rate(mirrorMs)} of allocated data`,
  );
  console.log(
    `  qemu-img convert -n --target-is-zero: median ${convertMs.toFixed(0)} ms (${list(converts)}) = ${rate(convertMs)}`,
  );
  console.log(`  P3 throughput ratio = ${ratio(convertMs, mirrorMs)} (goal ≥ 0.9)`);
  const sent = median(mirrors.map((m) => m.sent));
  console.log(
    `  bytes sent ÷ allocated (mirror) = ${ratio(sent, allocated)} (goal ≤ 1.05); convert: ${ratio(median(converts.map((c) => c.sent)), allocated)}`,
  );
}

const { values } = parseArgs({ options: { runs: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
console.log(`bench/mirror, ${runs} runs, ${new Date().toISOString()}`);
await withLab(2, () => main(runs));

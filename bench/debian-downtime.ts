/**
 * bench/debian-downtime: the Debian 12 lab guest (UEFI with OVMF, an NVRAM file and a vTPM) moved at its own reboot,
 * its firmware state carried, against the same guest's in-place reboot on the host it moved to, --runs times (default
 * 1) in one lab: lab-a → lab-b, in place on lab-b, lab-b → lab-a, in place on lab-a, and so on.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/debian-downtime.ts [--bios] [--runs 1]
 *
 * Times run from the guest's `reboot: Restarting system` console line until its agent answers `status` with the new
 * boot count (bench/lib/guests.ts timedReboot). Prints each pair, the medians and their ratio (goal ≤ 1.0), and each
 * cutover timeline, whose `firmwareCarried - sourceStopped` is how long carrying the NVRAM and TPM state took (it runs
 * beside close-export and define-target: it delays the start only when it ends after both).
 */
import { parseArgs } from 'node:util';
import { debianAgent, defineDebianGuest } from '../test/lab/debian-guest.js';
import { rehomeJson, type StatusJson, waitForPhase } from '../test/lab/helpers-migration.js';
import { checkNothingLost, type LabGuest, waitForAgent } from '../test/lab/lab.js';
import { onHost } from './lib/by-hand.js';
import { removeGuest, type TimedReboot, timedReboot } from './lib/guests.js';
import { log, WatchProcess, withLab } from './lib/lab-session.js';
import { formatMs, ratio, summarize } from './lib/stats.js';

const BOOT_MS = 300_000;
const { values } = parseArgs({ options: { bios: { type: 'boolean' }, runs: { type: 'string' } } });
const uefi = values.bios !== true;
const runs = Number(values.runs ?? 1);
const downtime = (t: TimedReboot) => t.answeredAt - t.rebootAt;

interface Pair {
  from: string;
  to: string;
  move: TimedReboot;
  stay: TimedReboot;
  timeline: Record<string, number>;
  firmware: string;
}

/** One move at the guest's reboot, under the watcher, then one in-place reboot where it landed. */
async function movedThenInPlace(
  guest: LabGuest,
  watch: WatchProcess,
  from: string,
  to: string,
): Promise<Pair> {
  const disks = await diskFiles(from, guest.name);
  await watch.arm(guest.name, to, from);
  const move = await timedReboot(guest, from, to, BOOT_MS);
  const phase = await waitForPhase(guest.name, ['done', 'rolled-back', 'failed'], 60_000);
  if (phase !== 'done') throw new Error(`${guest.name}: the move ended ${phase}\n${await watch.log()}`);
  const report = await checkNothingLost(guest.name);
  if (!report.ok) throw new Error(`${guest.name}: ${report.problems.join('; ')}`);
  const timeline = (await rehomeJson<StatusJson>(['status', guest.name])).migrations.at(-1)?.timeline ?? {};
  const firmware = uefi ? await debianAgent(guest.ip, 'fw-read') : 'BIOS';
  const stay = await timedReboot(guest, to, to, BOOT_MS);
  // rehome keeps the source's disks for the retention time, and will not copy over them when the guest comes back.
  await onHost(from, ['rm', '-f', '--', ...disks]);
  return { from, to, move, stay, timeline, firmware };
}

/** The guest's disk files on `host`, from `virsh domblklist --details`. */
async function diskFiles(host: string, name: string): Promise<string[]> {
  const listing = await onHost(host, ['virsh', 'domblklist', '--details', name]);
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[0] === 'file' && fields[1] === 'disk' && fields[3]?.startsWith('/'))
    .map((fields) => fields[3] as string);
}

function describe(pair: Pair): string {
  const { move, stay, timeline } = pair;
  const lines = [
    `  ${pair.from} → ${pair.to}: move ${downtime(move)} ms (BOOT line ${move.bootLineAt - move.rebootAt}); in place on ${pair.to} ${downtime(stay)} ms (BOOT line ${stay.bootLineAt - stay.rebootAt}); ratio ${ratio(downtime(move), downtime(stay))}`,
    `    cutover timeline (ms from the reboot event): ${JSON.stringify(timeline)}`,
  ];
  if (uefi) {
    const carried = (timeline.firmwareCarried ?? Number.NaN) - (timeline.sourceStopped ?? Number.NaN);
    // Its own branch had it wait for the source to stop; the start waits for the last branch to end.
    const others = Math.max(timeline.exportClosed ?? 0, timeline.defined ?? 0, timeline.sourceStopped ?? 0);
    const added = Math.max(0, (timeline.firmwareCarried ?? Number.NaN) - others);
    lines.push(
      `    carrying NVRAM + TPM state: ${carried} ms, of which ${added} ms on the cutover's path; read back on ${pair.to}: ${pair.firmware}`,
    );
  }
  return lines.join('\n');
}

console.log(
  `bench/debian-downtime (${uefi ? 'UEFI + vTPM' : 'BIOS'}), ${runs} run(s), ${new Date().toISOString()}`,
);
await withLab(2, async () => {
  const name = uefi ? 'bd-efi' : 'bd-bios';
  const started = Date.now();
  const guest = await defineDebianGuest(name, { host: 'lab-a', uefi, progress: log });
  await waitForAgent(guest.ip, { timeoutMs: BOOT_MS });
  log(`${name} booted in ${Date.now() - started} ms (image build included when not cached)`);
  if (uefi) log(`firmware: ${await debianAgent(guest.ip, 'fw-write bench')}`);
  const watch = await WatchProcess.start();
  const pairs: Pair[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const [from, to] = run % 2 === 0 ? ['lab-a', 'lab-b'] : ['lab-b', 'lab-a'];
      const pair = await movedThenInPlace(guest, watch, from as string, to as string);
      pairs.push(pair);
      log(`run ${run + 1}/${runs} done`);
      console.log(describe(pair));
    }
  } finally {
    await watch.stop();
    await removeGuest(name, ['lab-a', 'lab-b']);
  }
  const moves = summarize(pairs.map((pair) => downtime(pair.move)));
  const stays = summarize(pairs.map((pair) => downtime(pair.stay)));
  console.log(`  move at its reboot: ${formatMs(moves)}`);
  console.log(`  in-place reboot:    ${formatMs(stays)}`);
  console.log(`  ratio of medians = ${ratio(moves.median, stays.median)} (goal ≤ 1.0)`);
});

/**
 * bench/fsync: P5, the guest's fsync'ed-write cost while armed ÷ not armed.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/fsync.ts [--seconds 30]
 *
 * The lab guest's agent loops: append a counter line to /data/counter, `sync` the file, print `ACK`, `sleep 0.2`.
 * Its busybox has no sub-second clock, so the guest cannot time its own writes. What is measured instead, from the
 * host: the time between consecutive `ACK` lines on the serial console (timestamped as they reach the console log,
 * polled every 5 ms). Each interval is 200 ms of sleep plus the write + fsync plus the loop's fixed overhead (forks,
 * console); the interval minus 200 ms bounds the write+fsync latency from above. Phases on one guest: not armed,
 * armed with the background mirror (the default), not armed again, armed with --sync-writes.
 */
import { parseArgs } from 'node:util';
import { rehome, rehomeJson } from '../test/lab/helpers-migration.js';
import { consoleLogFromRoot, defineGuest, waitForAgent } from '../test/lab/lab.js';
import { sleep } from '../test/lab/run.js';
import { ConsoleClock } from './lib/console-clock.js';
import { log, withLab } from './lib/lab-session.js';
import { median, ratio } from './lib/stats.js';

const SLEEP_MS = 200;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** Intervals between consecutive ACK lines (n and n+1) over `seconds`. */
async function ackIntervals(file: string, seconds: number): Promise<number[]> {
  const clock = await ConsoleClock.start(file);
  await sleep(seconds * 1000);
  clock.stop();
  const acks = clock.lines
    .map((line) => ({ at: line.at, n: Number(/^ACK boot=\d+ n=(\d+)$/.exec(line.text)?.[1] ?? Number.NaN) }))
    .filter((ack) => Number.isFinite(ack.n));
  const intervals: number[] = [];
  for (let i = 1; i < acks.length; i++) {
    const [prev, next] = [acks[i - 1], acks[i]];
    if (prev && next && next.n === prev.n + 1) intervals.push(next.at - prev.at);
  }
  return intervals;
}

interface Phase {
  label: string;
  cost: number[];
}

function line(phase: Phase): string {
  const mean = phase.cost.reduce((a, b) => a + b, 0) / phase.cost.length;
  return `${phase.label.padEnd(34)} n=${phase.cost.length} median ${median(phase.cost).toFixed(1)} ms · mean ${mean.toFixed(1)} · p90 ${percentile(phase.cost, 0.9).toFixed(1)} · max ${Math.max(...phase.cost).toFixed(1)}`;
}

async function main(seconds: number): Promise<void> {
  const guest = await defineGuest('b5', { host: 'lab-a' });
  await waitForAgent(guest.ip, { timeoutMs: 180_000 });
  await sleep(3000);
  const file = consoleLogFromRoot('lab-a', guest.name);
  const phase = async (label: string): Promise<Phase> => {
    log(`measuring: ${label}`);
    const cost = (await ackIntervals(file, seconds)).map((interval) => interval - SLEEP_MS);
    return { label, cost };
  };
  const idle1 = await phase('not armed');
  await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
  const background = await phase('armed, background mirror');
  await rehome(['cancel', guest.name]);
  const idle2 = await phase('not armed (again)');
  await rehomeJson(['migrate', guest.name, '--to', 'lab-b', '--sync-writes']);
  const sync = await phase('armed, --sync-writes');
  await rehome(['cancel', guest.name]);
  const idle = [...idle1.cost, ...idle2.cost];
  console.log(`P5 — ACK interval − ${SLEEP_MS} ms (write + fsync + loop overhead), ${seconds} s per phase`);
  for (const p of [idle1, background, idle2, sync]) console.log(`  ${line(p)}`);
  console.log(
    `  P5 background = ${ratio(median(background.cost), median(idle))} (goal ≤ 1.2), on means ${ratio(mean(background.cost), mean(idle))}`,
  );
  console.log(
    `  --sync-writes = ${ratio(median(sync.cost), median(idle))}, on means ${ratio(mean(sync.cost), mean(idle))}`,
  );
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

const { values } = parseArgs({ options: { seconds: { type: 'string' } } });
const seconds = Number(values.seconds ?? 30);
console.log(`bench/fsync, ${seconds} s per phase, ${new Date().toISOString()}`);
await withLab(2, () => main(seconds));

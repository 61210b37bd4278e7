/**
 * bench/packet: reassemble one 16 MiB libvirt packet that arrives in 4 KiB chunks, with the PacketDecoder and with the
 * former algorithm (Buffer.concat of everything pending on each chunk), measured in the same run.
 * Run with `npx tsx bench/packet.ts [--runs 5]`.
 */
import { performance } from 'node:perf_hooks';
import { encodePacket, MAX_PACKET_BYTES, PacketDecoder } from '../src/libvirt/packet.js';
import { formatMs, ratio, summarize } from './lib/stats.js';

const CHUNK = 4096;
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;

/** The reassembly before issue 12: every chunk copies all that is pending. Kept here as the baseline only. */
function quadraticReassembly(chunks: readonly Buffer[]): number {
  let pending: Buffer = Buffer.alloc(0);
  let packets = 0;
  for (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const total = pending.readUInt32BE(0);
      if (pending.length < total) break;
      pending = pending.subarray(total);
      packets++;
    }
  }
  return packets;
}

function linearReassembly(chunks: readonly Buffer[]): number {
  const decoder = new PacketDecoder();
  let packets = 0;
  for (const chunk of chunks) packets += decoder.push(chunk).length;
  return packets;
}

function time(fn: () => number): number {
  const started = performance.now();
  if (fn() !== 1) throw new Error('expected exactly one packet');
  return performance.now() - started;
}

const body = Buffer.alloc(MAX_PACKET_BYTES - 4 - 24, 0xab);
const packet = encodePacket(
  { program: 0x20008086, version: 1, procedure: 1, type: 1, serial: 1, status: 0 },
  body,
);
const chunks: Buffer[] = [];
for (let at = 0; at < packet.length; at += CHUNK) chunks.push(packet.subarray(at, at + CHUNK));

const before: number[] = [];
const after: number[] = [];
for (let run = 0; run < RUNS; run++) {
  before.push(time(() => quadraticReassembly(chunks)));
  after.push(time(() => linearReassembly(chunks)));
}
const b = summarize(before);
const a = summarize(after);
console.log(`one ${(packet.length / 2 ** 20).toFixed(1)} MiB packet in ${chunks.length} chunks of 4 KiB`);
console.log(`before (concat per chunk): ${formatMs(b, 'ms')}`);
console.log(`after (concat once):       ${formatMs(a, 'ms')}`);
console.log(`ratio after/before (median): ${ratio(a.median, b.median)}`);

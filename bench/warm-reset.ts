/**
 * bench/warm-reset: why the in-place baseline of bench/cutover swings. Under TCG, a guest's reboot in place is a reset
 * of the same QEMU, whose translated code of the old kernel is still registered against guest RAM: the new kernel's
 * decompressor writes over those pages, and each first write to such a page costs QEMU an invalidation. Where the
 * kernel lands is random (KASLR), so the reset → first console line time is too. A new QEMU (what a move starts on
 * the target) has no translated code yet. Same guest, same host, alternating, --runs times (default 8):
 *   - in place: its own reboot (`reboot -f`): its `reboot: Restarting system` line → its next console line
 *   - fresh:    `virsh destroy`, then `virsh start`: the command's return → the first console byte
 * `--kernel-args nokaslr` appends to the guest's kernel command line: the kernel then lands on the old one each time.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/warm-reset.ts [--runs 8] [--kernel-args nokaslr]
 */
import { parseArgs } from 'node:util';
import { defineGuest, virsh, waitForAgent } from '../test/lab/lab.js';
import { type BootTimes, type InPlaceTimes, inPlaceReboot, timedBoot } from './lib/boots.js';
import { onHost } from './lib/by-hand.js';
import { log, withLab } from './lib/lab-session.js';
import { formatMs, summarize } from './lib/stats.js';

const HOST = 'lab-a';
const NAME = 'wr-0';

async function withKernelArgs(extra: string): Promise<void> {
  const xml = (await virsh(HOST, ['dumpxml', '--inactive', NAME])).stdout;
  const changed = xml.replace(/<cmdline>([^<]*)<\/cmdline>/, `<cmdline>$1 ${extra}</cmdline>`);
  if (changed === xml) throw new Error(`${NAME} has no <cmdline> to extend`);
  await onHost(HOST, ['tee', '/var/tmp/wr-0.xml'], changed);
  await virsh(HOST, ['destroy', NAME]);
  await virsh(HOST, ['define', '/var/tmp/wr-0.xml']);
  await virsh(HOST, ['start', NAME]);
}

async function main(runs: number, kernelArgs: string | undefined): Promise<void> {
  const guest = await defineGuest(NAME, { host: HOST });
  if (kernelArgs) await withKernelArgs(kernelArgs);
  await waitForAgent(guest.ip, { timeoutMs: 180_000 });
  const inPlace: InPlaceTimes[] = [];
  const fresh: BootTimes[] = [];
  for (let run = 0; run < runs; run++) {
    const stay = await inPlaceReboot(HOST, NAME, guest.ip);
    inPlace.push(stay);
    await waitForAgent(guest.ip);
    await virsh(HOST, ['destroy', NAME]);
    const start = await timedBoot(HOST, NAME, `start ${NAME}`);
    fresh.push(start);
    await waitForAgent(guest.ip);
    log(
      `run ${run + 1}/${runs}: in place ${stay.nextLineMs} ms to the next line; fresh ${start.firstByteMs - start.commandMs} ms after virsh start returned`,
    );
  }
  console.log(
    `bench/warm-reset, ${runs} runs, ${new Date().toISOString()} (192 MiB busybox guest, TCG${kernelArgs ? `, kernel args + "${kernelArgs}"` : ''})`,
  );
  console.log(
    `  in place: reboot line → next console line ${formatMs(summarize(inPlace.map((s) => s.nextLineMs)))}`,
  );
  console.log(`            each: ${inPlace.map((s) => s.nextLineMs).join(', ')} ms`);
  console.log(
    `  fresh:    virsh start returned → first console byte ${formatMs(summarize(fresh.map((s) => s.firstByteMs - s.commandMs)))}`,
  );
  console.log(
    `            (virsh start itself, over ssh: ${formatMs(summarize(fresh.map((s) => s.commandMs)), 'ms')})`,
  );
}

const { values } = parseArgs({ options: { runs: { type: 'string' }, 'kernel-args': { type: 'string' } } });
await withLab(1, () => main(Number(values.runs ?? 8), values['kernel-args']));

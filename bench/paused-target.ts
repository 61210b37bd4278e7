/**
 * bench/paused-target: what the "moonshot" of issue 15 would win and cost, measured before building it. The idea: the
 * target QEMU is started paused while the VM is armed, and the cutover only resumes it. Same guest, same host, same
 * run, medians of --runs (default 5):
 *   - start:         `virsh start` of the stopped guest → its first console byte and its agent's BOOT line
 *   - resume:        `virsh start --paused` beforehand; then `virsh resume` → first byte, BOOT line
 *   - attach+resume: the guest defined without its disk and started paused; then `virsh attach-device` of the disk and
 *                    `resume` in one virsh → first byte, BOOT line (a paused QEMU cannot serve its own disk as the
 *                    mirror's writable NBD export: the guest's device does not share write access, and libvirt refuses
 *                    <shareable/> for qcow2; a disk attached at the cutover avoids that, and a paused domain without
 *                    its disk cannot harm the data if someone resumes it by mistake)
 *   - in place:      the guest's own reboot: its `reboot: Restarting system` line → its next console line, BOOT line
 *   - the paused QEMU's resident memory (VmRSS, VmHWM) against the running one's: the cost while armed, per VM.
 * Each virsh command goes over ssh from the operator namespace; the command's own time is printed beside.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/paused-target.ts [--runs 5]
 */
import { parseArgs } from 'node:util';
import { defineGuest, virsh, waitForAgent } from '../test/lab/lab.js';
import { type BootTimes, type InPlaceTimes, inPlaceReboot, timedBoot } from './lib/boots.js';
import { onHost } from './lib/by-hand.js';
import { log, withLab } from './lib/lab-session.js';
import { formatMs, summarize } from './lib/stats.js';

const HOST = 'lab-a';
const NAME = 'pt-0';

async function rssKiB(): Promise<{ rss: number; hwm: number }> {
  const pid = (await onHost(HOST, ['cat', `/run/libvirt/qemu/${NAME}.pid`])).trim();
  const status = await onHost(HOST, ['cat', `/proc/${pid}/status`]);
  const field = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

async function main(runs: number): Promise<void> {
  const guest = await defineGuest(NAME, { host: HOST });
  await waitForAgent(guest.ip, { timeoutMs: 180_000 });
  const full = (await virsh(HOST, ['dumpxml', '--inactive', NAME])).stdout;
  const disk = /<disk[\s\S]*?<\/disk>/.exec(full)?.[0];
  if (!disk) throw new Error(`${NAME} has no disk in its definition`);
  await onHost(HOST, ['tee', '/var/tmp/pt-full.xml'], full);
  await onHost(HOST, ['tee', '/var/tmp/pt-nodisk.xml'], full.replace(disk, ''));
  await onHost(HOST, ['tee', '/var/tmp/pt-disk.xml'], disk);

  const start: BootTimes[] = [];
  const resume: BootTimes[] = [];
  const attach: BootTimes[] = [];
  const inPlace: InPlaceTimes[] = [];
  const paused: { rss: number; hwm: number }[] = [];
  const running: { rss: number; hwm: number }[] = [];
  const pausedStartMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    inPlace.push(await inPlaceReboot(HOST, NAME, guest.ip));
    await waitForAgent(guest.ip);
    running.push(await rssKiB());
    await virsh(HOST, ['destroy', NAME]);

    start.push(await timedBoot(HOST, NAME, `start ${NAME}`));
    await waitForAgent(guest.ip);
    await virsh(HOST, ['destroy', NAME]);

    const before = Date.now();
    await onHost(HOST, ['virsh', 'start', '--paused', NAME]);
    pausedStartMs.push(Date.now() - before);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    paused.push(await rssKiB());
    resume.push(await timedBoot(HOST, NAME, `resume ${NAME}`));
    await waitForAgent(guest.ip);
    await virsh(HOST, ['destroy', NAME]);

    await virsh(HOST, ['define', '/var/tmp/pt-nodisk.xml']);
    await virsh(HOST, ['start', '--paused', NAME]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    attach.push(
      await timedBoot(HOST, NAME, `attach-device ${NAME} /var/tmp/pt-disk.xml --live; resume ${NAME}`),
    );
    await waitForAgent(guest.ip);
    await virsh(HOST, ['destroy', NAME]);
    await virsh(HOST, ['define', '/var/tmp/pt-full.xml']);
    await virsh(HOST, ['start', NAME]);
    await waitForAgent(guest.ip);
    log(`run ${run + 1}/${runs} done`);
  }

  const line = (label: string, samples: BootTimes[]) =>
    console.log(
      `  ${label.padEnd(15)} command ${formatMs(summarize(samples.map((s) => s.commandMs)), 'ms')}\n` +
        `  ${''.padEnd(15)} first byte ${formatMs(summarize(samples.map((s) => s.firstByteMs)))}; BOOT line ${formatMs(summarize(samples.map((s) => s.bootLineMs)))}`,
    );
  console.log(`bench/paused-target, ${runs} runs, ${new Date().toISOString()} (192 MiB busybox guest, TCG)`);
  console.log('From the virsh command (over ssh) to the guest booting:');
  line('start', start);
  line('resume', resume);
  line('attach+resume', attach);
  console.log(
    `  in place:       reboot line → next line ${formatMs(summarize(inPlace.map((s) => s.nextLineMs)))}; → BOOT line ${formatMs(summarize(inPlace.map((s) => s.bootLineMs)))}`,
  );
  console.log(`  start --paused (the cost moved to arming): ${formatMs(summarize(pausedStartMs), 'ms')}`);
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const median = (values: number[]) => summarize(values).median;
  console.log(
    `Resident memory: paused QEMU ${mib(median(paused.map((p) => p.rss)))} MiB (peak ${mib(median(paused.map((p) => p.hwm)))}); ` +
      `running ${mib(median(running.map((p) => p.rss)))} MiB`,
  );
}

const { values } = parseArgs({ options: { runs: { type: 'string' } } });
await withLab(1, () => main(Number(values.runs ?? 5)));

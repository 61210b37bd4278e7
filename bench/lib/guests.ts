/** Lab guests for the benchmarks: the lab's own guest, optionally on a pre-filled disk; timed reboots. */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { leaseFor, stageGuest } from '../../test/lab/guest.js';
import {
  agentQuery,
  agentReboot,
  consoleLogFromRoot,
  type LabGuest,
  macForName,
  virsh,
} from '../../test/lab/lab.js';
import { labPaths } from '../../test/lab/paths.js';
import { run, sleep } from '../../test/lab/run.js';
import { ConsoleClock } from './console-clock.js';

/**
 * An ext4 disk (qcow2) of `size` whose filesystem holds one file of `dataMiB` MiB of random data, written by
 * `mkfs.ext4 -d`: real written data in the guest's filesystem, as a guest would have it. Cached per size and amount.
 */
export async function filledDisk(size: string, dataMiB: number): Promise<string> {
  const disk = path.join(labPaths().cache, `bench-disk-${size}-${dataMiB}M.qcow2`);
  if (
    await stat(disk).then(
      () => true,
      () => false,
    )
  )
    return disk;
  const work = await mkdtemp(path.join(tmpdir(), 'rehome-bench-disk-'));
  try {
    const tree = path.join(work, 'tree');
    await run(['mkdir', '-p', tree]);
    await run([
      'dd',
      'if=/dev/urandom',
      `of=${path.join(tree, 'fill.bin')}`,
      'bs=1M',
      `count=${dataMiB}`,
      'status=none',
    ]);
    const raw = path.join(work, 'disk.raw');
    await run(['truncate', '-s', size, raw]);
    await run(['mkfs.ext4', '-q', '-F', '-L', 'data', '-d', tree, raw]);
    await run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, `${disk}.tmp`]);
    await run(['mv', `${disk}.tmp`, disk]);
    return disk;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Defines and starts a lab guest on `host` from the given disk image (copied into the host). */
export async function defineGuestFromDisk(name: string, host: string, disk: string): Promise<LabGuest> {
  const mac = macForName(name);
  const ip = await leaseFor(name, mac);
  const xml = await stageGuest(host, name, mac, disk);
  await virsh(host, ['define', xml]);
  await virsh(host, ['start', name]);
  return { name, host, mac, ip };
}

/** Stops and undefines a guest wherever it is defined, so it costs no CPU in later runs. */
export async function removeGuest(name: string, hosts: readonly string[]): Promise<void> {
  for (const host of hosts) {
    await virsh(host, ['destroy', name], { reject: false });
    await virsh(host, ['undefine', name], { reject: false });
  }
}

export interface TimedReboot {
  /** The guest's `reboot: Restarting system` line on the host it ran on. */
  rebootAt: number;
  /** First console output on the host it comes back on. */
  firstLineAt: number;
  /** Its agent's `BOOT` line there. */
  bootLineAt: number;
  /** Its agent answering `status` with the new boot count. */
  answeredAt: number;
}

/**
 * Asks the guest's agent to reboot and times the reboot from the guest's own console line until its agent answers
 * on `backOn` (the same host for an in-place reboot, the target for a move).
 */
export async function timedReboot(
  guest: LabGuest,
  from: string,
  backOn: string,
  timeoutMs = 120_000,
): Promise<TimedReboot> {
  const before = await agentQuery(guest.ip);
  const source = await ConsoleClock.start(consoleLogFromRoot(from, guest.name));
  const target = from === backOn ? source : await ConsoleClock.start(consoleLogFromRoot(backOn, guest.name));
  try {
    await agentReboot(guest.ip);
    const reboot = await source.waitFor(/reboot: Restarting system/, 30_000);
    // Not anchored: firmware (OVMF) may leave escape sequences before it on the same console line.
    const boot = await target.waitFor(new RegExp(`BOOT boot=${before.boot + 1} `), timeoutMs);
    const firstLineAt =
      from === backOn
        ? (target.lines.find((line) => line.at > reboot.at || (line.at === reboot.at && line !== reboot))
            ?.at ?? boot.at)
        : (target.firstByteAt ?? boot.at);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await agentQuery(guest.ip).catch(() => undefined);
      if (status && status.boot > before.boot) break;
      if (Date.now() > deadline)
        throw new Error(`the agent of ${guest.name} did not answer after its BOOT line`);
      await sleep(20);
    }
    return { rebootAt: reboot.at, firstLineAt, bootLineAt: boot.at, answeredAt: Date.now() };
  } finally {
    source.stop();
    target.stop();
  }
}

/** A lab guest's boot, timed on its console: after a virsh command, or after its own reboot. */
import { agentReboot, consoleLogFromRoot } from '../../test/lab/lab.js';
import { onHost } from './by-hand.js';
import { ConsoleClock } from './console-clock.js';

export interface BootTimes {
  /** The virsh invocation itself (over ssh). */
  commandMs: number;
  /** From the command to the first console byte. */
  firstByteMs: number;
  /** From the command to the agent's BOOT line. */
  bootLineMs: number;
}

/** Runs one virsh invocation on `host` (commands separated by `;`) and times the guest's boot from its start. */
export async function timedBoot(host: string, name: string, commands: string): Promise<BootTimes> {
  const clock = await ConsoleClock.start(consoleLogFromRoot(host, name));
  try {
    const startedAt = Date.now();
    await onHost(host, ['virsh', commands]);
    const commandMs = Date.now() - startedAt;
    const boot = await clock.waitFor(/BOOT boot=/, 120_000);
    return {
      commandMs,
      firstByteMs: (clock.firstByteAt ?? boot.at) - startedAt,
      bootLineMs: boot.at - startedAt,
    };
  } finally {
    clock.stop();
  }
}

export interface InPlaceTimes {
  /** The guest's `reboot: Restarting system` line → its next console line. */
  nextLineMs: number;
  /** The same line → its agent's BOOT line. */
  bootLineMs: number;
}

/** The guest's own reboot, in place (its agent runs `reboot -f`). */
export async function inPlaceReboot(host: string, name: string, ip: string): Promise<InPlaceTimes> {
  const clock = await ConsoleClock.start(consoleLogFromRoot(host, name));
  try {
    await agentReboot(ip);
    const reboot = await clock.waitFor(/reboot: Restarting system/, 30_000);
    const boot = await clock.waitFor(/BOOT boot=/, 120_000);
    const next = clock.lines.find((line) => line.at > reboot.at) ?? boot;
    return { nextLineMs: next.at - reboot.at, bootLineMs: boot.at - reboot.at };
  } finally {
    clock.stop();
  }
}

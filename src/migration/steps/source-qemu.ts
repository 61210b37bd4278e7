import { posix } from 'node:path';
import { REMOTE_COMMAND_TIMEOUT_MS, type RemoteShell, run } from '../../sync/remote.js';
import { liveProcessArgv } from '../../sync/remote-process.js';
import type { MigrationContext } from '../engine/context.js';
import { sourcePresence } from '../engine/presence.js';
import { ok, type Step, skip } from '../engine/step.js';

/** Where libvirt's QEMU driver (the system daemon) keeps a running domain's QEMU pid file: NAME.pid. */
export const LIBVIRT_QEMU_STATE_DIR = '/run/libvirt/qemu';

/**
 * The source's QEMU as a process, for one cutover run. libvirt's destroy sends SIGTERM and then looks at the process
 * again only every 200 ms (virProcessKillPainfully), so it returns ~200 ms after a paused QEMU has exited. Watching the
 * process itself lets start-target go as soon as the source has no QEMU; the rest of libvirt's stop (taps, swtpm,
 * the state it reports) is waited for beside the start. Held in memory for one run only: a run resumed after a crash
 * observes libvirt's state instead.
 */
export interface SourceQemu {
  /** The pid of the source's QEMU, seen alive beside the convergence (its command line names the VM's UUID). */
  pid?: number;
  /** This run saw that QEMU exit, or libvirt's destroy return. */
  exited?: boolean;
  /** This run's destroy of the source: settles when libvirt has stopped the domain (it may outlive destroy-source). */
  libvirtStopped?: Promise<void>;
}

/**
 * For a step that needs libvirt to have stopped the source (its swtpm, taps and state go with it): waits for this run's
 * destroy, if one is in flight, then makes sure libvirt reports the source shut off or gone.
 */
export async function untilLibvirtStoppedSource(ctx: MigrationContext, qemu: SourceQemu): Promise<void> {
  await qemu.libvirtStopped;
  const presence = await sourcePresence(ctx);
  if (presence !== 'shutoff' && presence !== 'missing')
    throw new Error(`the VM is ${presence} on the source after its destroy`);
}

/** Whether a process's argv is a QEMU of this VM: libvirt gives it `-uuid UUID`. */
export function isQemuOf(argv: readonly string[], uuid: string): boolean {
  const at = argv.indexOf('-uuid');
  return at >= 0 && argv[at + 1]?.toLowerCase() === uuid.toLowerCase();
}

/**
 * The pid of the VM's QEMU on this host, from libvirt's pid file, checked against the process (alive, and its `-uuid`
 * is the VM's); undefined when it cannot be told (no pid file there, not readable, another process).
 */
export async function observeQemuPid(
  shell: RemoteShell,
  name: string,
  uuid: string,
): Promise<number | undefined> {
  const pidFile = await run(shell, ['cat', posix.join(LIBVIRT_QEMU_STATE_DIR, `${name}.pid`)]);
  const pid = Number(pidFile.stdout.trim());
  if (pidFile.code !== 0 || !Number.isInteger(pid) || pid <= 1) return undefined;
  const argv = await liveProcessArgv(shell, pid);
  return argv && isQemuOf(argv, uuid) ? pid : undefined;
}

/**
 * How long the wait for the source QEMU's exit may take: longer than libvirt's own destroy (it gives up after 15 s),
 * so that a destroy that fails ends with libvirt's error.
 */
export const QEMU_EXIT_WAIT_MS = REMOTE_COMMAND_TIMEOUT_MS;

/**
 * Read only, beside the convergence: which process is the source's QEMU. Not finding it costs speed, never safety:
 * destroy-source then ends only when libvirt's destroy returns.
 */
export function observeSourceQemu(qemu: SourceQemu): Step {
  return {
    name: 'observe-source-qemu',
    async check() {
      if (qemu.pid !== undefined) return skip(`pid ${qemu.pid}`);
      return ok;
    },
    async run(ctx) {
      try {
        const shell = await ctx.hosts.ssh(ctx.record.sourceHost);
        qemu.pid = await observeQemuPid(shell, ctx.record.vmName, ctx.record.vmUuid);
        return { pid: qemu.pid ?? null };
      } catch (err) {
        return { pid: null, unobserved: (err as Error).message };
      }
    },
  };
}

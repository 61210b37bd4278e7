import { type RemoteShell, run } from './remote.js';

/**
 * The argv of a live process on the host, from /proc/PID/stat and cmdline read in one round trip; undefined when the
 * pid is gone, a zombie (it has exited, nobody reaped it yet) or cannot be read.
 */
export async function liveProcessArgv(
  shell: RemoteShell,
  pid: number,
  timeoutMs?: number,
): Promise<string[] | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const proc = await run(shell, ['cat', `/proc/${pid}/stat`, `/proc/${pid}/cmdline`], timeoutMs);
  return proc.code === 0 ? liveArgv(proc.stdout) : undefined;
}

/**
 * Waits on the host until the pid is gone (at once if it already is). A zombie counts as there until it is reaped, so
 * exit 0 always means that no process of that pid runs.
 */
export function waitForPidArgv(pid: number): string[] {
  return ['tail', `--pid=${pid}`, '--sleep-interval=0.01', '-f', '/dev/null'];
}

/** `cat /proc/PID/stat /proc/PID/cmdline`'s output: stat ends with a newline and holds no NUL; cmdline follows it. */
export function liveArgv(statThenCmdline: string): string[] | undefined {
  const newline = statThenCmdline.indexOf('\n');
  if (newline < 0) return undefined;
  const stat = statThenCmdline.slice(0, newline);
  const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
  if (state === 'Z' || state === 'X') return undefined;
  return statThenCmdline
    .slice(newline + 1)
    .replace(/\0$/, '')
    .split('\0');
}

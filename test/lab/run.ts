import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { execa, type Options } from 'execa';

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs argv and throws with its stderr when it fails. */
export async function run(argv: readonly string[], options: Options = {}): Promise<RunResult> {
  const result = await runMaybe(argv, options);
  if (result.exitCode !== 0) {
    const detail = (result.stderr || result.stdout).trim();
    throw new Error(`${argv.join(' ')} exited ${result.exitCode}${detail ? `: ${detail}` : ''}`);
  }
  return result;
}

/** Runs argv and returns its result whatever the exit code. */
export async function runMaybe(argv: readonly string[], options: Options = {}): Promise<RunResult> {
  const [command, ...args] = argv;
  if (!command) throw new Error('empty command');
  const stdin = options.input === undefined ? { stdin: 'ignore' as const } : {};
  const result = await execa(command, args, { reject: false, ...stdin, ...options });
  return {
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    exitCode: result.exitCode ?? (result.signal ? 128 : 1),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls check until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Starts argv in the background, detached from us, with its output appended to logFile; returns its PID.
 * `ip netns exec`, `unshare` (without --fork) and the holder exec in place, so that PID is the holder's.
 */
export async function spawnDetached(logFile: string, argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command) throw new Error('empty command');
  const log = await open(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log.fd, log.fd] });
    if (!child.pid) throw new Error(`could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    await log.close();
  }
}

export type Progress = (line: string) => void;
export const silent: Progress = () => {};

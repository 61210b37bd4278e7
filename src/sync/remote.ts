import { RehomeError } from '../errors.js';
import type { ExecResult, SshConnection } from '../host/ssh-connection.js';

/** The small slice of SshConnection the sync layer needs (a fake in unit tests). */
export type RemoteShell = Pick<SshConnection, 'exec' | 'name'>;

/** A RemoteShell that can also return stdout as bytes (a `tar -c` archive). */
export type BinaryShell = RemoteShell & Pick<SshConnection, 'execBuffer'>;

/**
 * How long a short remote command (test, rm, kill, cat, ss, mkdir) may take. Every remote command the sync layer runs
 * has a bound: a host that hangs turns into a timeout error naming the host and the command, not a stuck migration.
 */
export const REMOTE_COMMAND_TIMEOUT_MS = 30_000;

/** Runs argv on the host with a timeout; the result says how it exited. */
export function run(
  shell: RemoteShell,
  argv: readonly string[],
  timeoutMs = REMOTE_COMMAND_TIMEOUT_MS,
): Promise<ExecResult> {
  return shell.exec(argv, { timeoutMs });
}

/** Runs argv on the host and throws a RehomeError with its stderr when it fails. */
export async function mustExec(
  shell: RemoteShell,
  argv: readonly string[],
  timeoutMs = 60_000,
): Promise<ExecResult> {
  const result = await run(shell, argv, timeoutMs);
  if (result.code !== 0) throw commandFailed(shell, argv, result, result.stderr || result.stdout);
  return result;
}

/** `mustExec` for a command whose stdout is bytes (an archive). */
export async function mustExecBuffer(
  shell: BinaryShell,
  argv: readonly string[],
  timeoutMs = 60_000,
): Promise<ExecResult<Buffer>> {
  const result = await shell.execBuffer(argv, { timeoutMs });
  if (result.code !== 0) throw commandFailed(shell, argv, result, result.stderr);
  return result;
}

function commandFailed(
  shell: RemoteShell,
  argv: readonly string[],
  exit: Pick<ExecResult, 'code' | 'signal'>,
  output: string,
): RehomeError {
  const detail = output.trim();
  return new RehomeError(
    `${argv[0]} on ${shell.name} exited ${exit.code ?? exit.signal}${detail ? `: ${detail}` : ''}`,
    'migration-failed',
  );
}

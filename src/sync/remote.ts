import { RehomeError } from '../errors.js';
import type { ExecResult, SshConnection } from '../host/ssh-connection.js';

/** The small slice of SshConnection the sync layer needs (a fake in unit tests). */
export type RemoteShell = Pick<SshConnection, 'exec' | 'name'>;

/** Runs argv on the host and throws a RehomeError with its stderr when it fails. */
export async function mustExec(
  shell: RemoteShell,
  argv: readonly string[],
  timeoutMs = 60_000,
): Promise<ExecResult> {
  const result = await shell.exec(argv, { timeoutMs });
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim();
    throw new RehomeError(
      `${argv[0]} on ${shell.name} exited ${result.code ?? result.signal}${detail ? `: ${detail}` : ''}`,
      'migration-failed',
    );
  }
  return result;
}

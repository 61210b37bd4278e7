import type { ErrorKind } from '../errors.js';

/** Process exit codes, documented in README.md. Domain errors start at 3. */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  config: 3,
  hostUnreachable: 4,
  hostKeyRejected: 5,
  libvirt: 6,
  locked: 7,
  notFound: 8,
  migrationFailed: 9,
  /** A plan or drain has VMs that cannot be moved (no target, passthrough devices, unsupported disks or NICs). */
  blocked: 10,
  /** This machine stands in the way: no HOME, a directory rehome cannot write, a port in use, an address not here. */
  environment: 11,
  /** `rehome doctor` found a failing check (other than a refused host key, 5, or an unreachable host, 4). */
  checksFailed: 12,
  /** `--wait` ran out of `--timeout` before every VM moved; nothing was undone (they stay armed). */
  waitTimedOut: 13,
} as const;

const EXIT_CODE_BY_KIND: Record<ErrorKind, number> = {
  'invalid-input': ExitCode.usage,
  config: ExitCode.config,
  unreachable: ExitCode.hostUnreachable,
  'host-key': ExitCode.hostKeyRejected,
  libvirt: ExitCode.libvirt,
  locked: ExitCode.locked,
  'not-found': ExitCode.notFound,
  'migration-failed': ExitCode.migrationFailed,
  blocked: ExitCode.blocked,
  environment: ExitCode.environment,
  internal: ExitCode.unexpected,
};

export function exitCodeForKind(kind: ErrorKind): number {
  return EXIT_CODE_BY_KIND[kind];
}

/**
 * A command that reads several hosts, some of which failed: a refused host key (5) first, since only a person can
 * settle it; otherwise the first failure's code (4 unreachable, 6 libvirt).
 */
export function exitCodeForHostFailures(kinds: readonly ErrorKind[]): number {
  if (kinds.includes('host-key')) return ExitCode.hostKeyRejected;
  return kinds[0] ? exitCodeForKind(kinds[0]) : ExitCode.ok;
}

/** After `--wait`: 0 when every VM moved, 9 when one ended otherwise (rolled back, cancelled, failed), 13 on timeout. */
export function exitCodeForWait(wait: { settled: boolean; allMoved: boolean }): number {
  if (!wait.settled) return ExitCode.waitTimedOut;
  return wait.allMoved ? ExitCode.ok : ExitCode.migrationFailed;
}

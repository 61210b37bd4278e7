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
  internal: ExitCode.unexpected,
};

export function exitCodeForKind(kind: ErrorKind): number {
  return EXIT_CODE_BY_KIND[kind];
}

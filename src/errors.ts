/**
 * The one error type domain code throws for things an operator can act on. It says what kind of thing went wrong;
 * what that means to a user (an exit code, a command to try next) is decided by the CLI layer alone.
 */

/** The closed set of error kinds. Stable: `--json` errors carry them. */
export const ERROR_KINDS = [
  /** A value given by the caller (a flag, an argument, a deadline) is malformed or out of range. */
  'invalid-input',
  /** The config file is missing a setting, or holds a wrong one. */
  'config',
  /** A host could not be reached (SSH, or libvirtd behind it). */
  'unreachable',
  /** A host's SSH key is unknown, changed or revoked. */
  'host-key',
  /** libvirtd refused or failed a call. */
  'libvirt',
  /** Another process holds the VM, or moved its migration. */
  'locked',
  /** A host, VM, migration or record does not exist. */
  'not-found',
  /** A migration could not go on; it was rolled back or left for an operator. */
  'migration-failed',
  /** Some VM cannot be moved (no target, passthrough devices, unsupported disks or NICs). */
  'blocked',
  /**
   * The operator's own machine stands in the way: no home directory, a config or data directory that cannot be
   * written, a port already in use or an address not on this machine.
   */
  'environment',
  /** A bug or an unforeseen condition. */
  'internal',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

/**
 * What an error is about, for the CLI to turn into advice ("run `rehome status web1`"). `code` names the situation
 * in a word that stays the same across releases; the other fields are the names it concerns.
 */
export interface ErrorSubject {
  code?: string;
  vm?: string;
  host?: string;
  /** Another host the situation involves (a migration's target). */
  otherHost?: string;
  path?: string;
  step?: string;
  /** A remote command (quoted as it was run) or a wait the situation concerns. */
  command?: string;
  /** Disks the disk policy refused (src/disks): device, code, reason. */
  disks?: { disk: string; code: string; reason: string }[];
}

export interface RehomeErrorOptions extends ErrorOptions {
  subject?: ErrorSubject;
}

export class RehomeError extends Error {
  readonly kind: ErrorKind;
  /** Facts that help to act on the error (what to check, which setting matters); never a rehome command line. */
  readonly hints: readonly string[];
  readonly subject: ErrorSubject;

  constructor(
    message: string,
    kind: ErrorKind,
    hints: readonly string[] = [],
    options: RehomeErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RehomeError';
    this.kind = kind;
    this.hints = hints;
    this.subject = options.subject ?? {};
  }
}

/**
 * A remote command or a wait that did not finish in time. It names the host and the command (or what was waited
 * for), and the step when the caller knows it.
 */
export function timeoutError(what: {
  host: string;
  command: string;
  timeoutMs: number;
  step?: string;
}): RehomeError {
  const { host, command, timeoutMs, step } = what;
  return new RehomeError(
    `${step ? `${step}: ` : ''}${command} on ${host} timed out after ${timeoutMs} ms`,
    'unreachable',
    [`The host ${host} or what runs on it hangs; check the host.`],
    { subject: { code: 'timeout', host, command, ...(step ? { step } : {}) } },
  );
}

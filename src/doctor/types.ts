/** `rehome doctor`: per host, what is checked before any drain, and what was found. Data only; src/app formats it. */

/** The checks, in the order they are made and shown. */
export const DOCTOR_CHECKS = [
  /** The host's SSH key is in known_hosts (unknown or changed keys are refused, as every command refuses them). */
  'host-key',
  /** An SSH connection can be made and authenticated. */
  'ssh',
  /** sshd allows stream-local forwarding: rehome reaches libvirtd's socket through it. */
  'stream-local',
  /** libvirtd answers, and libvirt and QEMU are recent enough. */
  'versions',
  /** qemu-nbd (the target's export), qemu-img (images) and perl (the export's listener) are installed. */
  'qemu-tools',
  /** The NBD TLS files are in tls.certDir. */
  'tls-files',
  /** The host's certificates are signed by the fleet CA. */
  'tls-chain',
  /** The server and client certificates name the host. */
  'tls-names',
  /** No certificate expires within 30 days. */
  'tls-expiry',
  /** The image directory exists and has room. */
  'image-dir',
  /** The host's clock agrees with this machine's (deadlines, signed links and certificates depend on it). */
  'clock',
] as const;

export type DoctorCheckName = (typeof DOCTOR_CHECKS)[number];

/** `skip`: could not be checked because an earlier check failed (named in `detail`). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  check: DoctorCheckName;
  status: CheckStatus;
  /** What was found, e.g. "libvirt 9.0.0, QEMU 7.2.0". */
  detail: string;
  /** How to fix it, when it failed or warns. */
  fix?: string;
}

export interface HostReport {
  host: string;
  /** True when no check failed (warnings allowed). */
  ok: boolean;
  checks: CheckResult[];
}

export interface DoctorReport {
  /** ISO-8601 UTC. */
  checkedAt: string;
  ok: boolean;
  /** Where the fleet CA came from: tls.caFile, or the CA most hosts hold. */
  fleetCa: { source: 'config' | 'majority' | 'none'; fingerprint: string | null };
  hosts: HostReport[];
}

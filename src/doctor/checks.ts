/** The checks that are not about TLS, over facts already read from a host. Pure. */
import type { CheckResult } from './types.js';

export interface VersionTriple {
  major: number;
  minor: number;
  micro: number;
}

/**
 * The versions rehome is tested with (Debian 12's libvirt and QEMU, in the lab). Older ones may lack what a mirror
 * into an NBD export over TLS needs (a transient block copy job, -blockdev): a warning, not a failure, since the
 * features, not the numbers, decide.
 */
export const TESTED_VERSIONS = {
  libvirt: { major: 9, minor: 0, micro: 0 },
  qemu: { major: 7, minor: 2, micro: 0 },
} as const;

export function versionText(version: VersionTriple): string {
  return `${version.major}.${version.minor}.${version.micro}`;
}

function older(a: VersionTriple, b: VersionTriple): boolean {
  return a.major !== b.major
    ? a.major < b.major
    : a.minor !== b.minor
      ? a.minor < b.minor
      : a.micro < b.micro;
}

export function versionsCheck(libvirt: VersionTriple, qemu: VersionTriple): CheckResult {
  const detail = `libvirt ${versionText(libvirt)}, QEMU ${versionText(qemu)}`;
  const untested = [
    ...(older(libvirt, TESTED_VERSIONS.libvirt)
      ? [`libvirt older than ${versionText(TESTED_VERSIONS.libvirt)}`]
      : []),
    ...(older(qemu, TESTED_VERSIONS.qemu) ? [`QEMU older than ${versionText(TESTED_VERSIONS.qemu)}`] : []),
  ];
  if (untested.length > 0)
    return {
      check: 'versions',
      status: 'warn',
      detail: `${detail}: ${untested.join(', ')}, untested`,
      fix: 'Upgrade the host, or try one move with `rehome migrate` first.',
    };
  return { check: 'versions', status: 'ok', detail };
}

/** The programs the exports and copies run on a host, and the package that gives each. */
export const HOST_TOOLS = [
  { tool: 'qemu-nbd', install: 'qemu-utils (Debian, Ubuntu) or qemu-img (RHEL, Fedora)' },
  { tool: 'qemu-img', install: 'qemu-utils (Debian, Ubuntu) or qemu-img (RHEL, Fedora)' },
  { tool: 'perl', install: 'perl-base (Debian, Ubuntu; essential) or perl-interpreter (RHEL, Fedora)' },
] as const;

/** `which qemu-nbd qemu-img perl` output: one path per line for each program found. */
export function qemuToolsCheck(whichOutput: string): CheckResult {
  const paths = whichOutput.split('\n').map((line) => line.trim());
  const found = HOST_TOOLS.map((entry) => ({
    ...entry,
    path: paths.find((path) => path.endsWith(`/${entry.tool}`)),
  }));
  const missing = found.filter((entry) => !entry.path);
  if (missing.length > 0)
    return {
      check: 'qemu-tools',
      status: 'fail',
      detail: `${missing.map((entry) => entry.tool).join(' and ')} not found on PATH`,
      fix: `Install ${[...new Set(missing.map((entry) => entry.install))].join(', and ')}.`,
    };
  return { check: 'qemu-tools', status: 'ok', detail: found.map((entry) => entry.path).join(', ') };
}

/** `ls -1 certDir` output against the files an export and a block copy need. */
export function tlsFilesCheck(certDir: string, listing: string, expected: readonly string[]): CheckResult {
  const present = new Set(listing.split('\n').map((line) => line.trim()));
  const missing = expected.filter((file) => !present.has(file));
  if (missing.length > 0)
    return {
      check: 'tls-files',
      status: 'fail',
      detail: `missing in ${certDir}: ${missing.join(', ')}`,
      fix: `Install them in ${certDir} (the keys mode 0640, group of the QEMU user), as nbd_tls_x509_cert_dir in qemu.conf names.`,
    };
  return { check: 'tls-files', status: 'ok', detail: `${certDir}: ${expected.length} files` };
}

export interface DiskSpace {
  path: string;
  totalBytes: number;
  availableBytes: number;
}

/** Parses `df -P -B1 PATH`: the second line's size and available columns. */
export function parseDf(path: string, output: string): DiskSpace | undefined {
  const fields = output.trim().split('\n')[1]?.trim().split(/\s+/);
  const total = Number(fields?.[1]);
  const available = Number(fields?.[3]);
  if (!fields || !Number.isFinite(total) || !Number.isFinite(available)) return undefined;
  return { path, totalBytes: total, availableBytes: available };
}

const GiB = 1024 ** 3;

/** Room in the image directory: a failure under `minFreeBytes` (no disk of any size can be copied there). */
export function imageDirCheck(space: DiskSpace, minFreeBytes: number): CheckResult {
  const detail = `${space.path}: ${(space.availableBytes / GiB).toFixed(1)} GiB free of ${(space.totalBytes / GiB).toFixed(1)} GiB`;
  if (space.availableBytes < minFreeBytes)
    return {
      check: 'image-dir',
      status: 'fail',
      detail: `${detail}, under ${(minFreeBytes / GiB).toFixed(1)} GiB`,
      fix: `Free space in ${space.path}, or set another imageDir for the host.`,
    };
  return { check: 'image-dir', status: 'ok', detail };
}

/** How far a host's clock may be from this machine's before doctor fails it. */
export const CLOCK_SKEW_LIMIT_MS = 2_000;

/**
 * The host's clock against this machine's: `remoteMs` was read between `sentAt` and `receivedAt` (local clock), so it
 * is compared with the midpoint, and the round trip's half is the uncertainty.
 */
export function clockCheck(remoteMs: number, sentAt: number, receivedAt: number): CheckResult {
  const skew = remoteMs - (sentAt + receivedAt) / 2;
  const uncertainty = (receivedAt - sentAt) / 2;
  const detail = `${skew >= 0 ? 'ahead' : 'behind'} by ${(Math.abs(skew) / 1000).toFixed(3)} s (± ${(uncertainty / 1000).toFixed(3)} s)`;
  if (Math.abs(skew) - uncertainty > CLOCK_SKEW_LIMIT_MS)
    return {
      check: 'clock',
      status: 'fail',
      detail: `${detail}, more than ${CLOCK_SKEW_LIMIT_MS / 1000} s`,
      fix: 'Synchronise the clocks with NTP (chrony or systemd-timesyncd) on the host and on this machine.',
    };
  return { check: 'clock', status: 'ok', detail };
}

/** `date +%s.%N` output into milliseconds. */
export function parseEpoch(output: string): number | undefined {
  const match = /^(\d+)\.(\d{1,9})\s*$/.exec(output.trim());
  if (!match) return undefined;
  return Number(match[1]) * 1000 + Number((match[2] ?? '0').padEnd(9, '0').slice(0, 3));
}

/** Checks that could not run because `cause` failed first. */
export function skipped(checks: readonly CheckResult['check'][], cause: string): CheckResult[] {
  return checks.map((check) => ({ check, status: 'skip', detail: `not checked: ${cause}` }));
}

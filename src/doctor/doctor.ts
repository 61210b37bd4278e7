/**
 * `rehome doctor`: every check on every host, in parallel, over ports (SSH and libvirt) the caller opens. A failed
 * check never stops the others on the host, except those that need what failed (they are reported as skipped).
 */
import { RehomeError } from '../errors.js';
import {
  clockCheck,
  HOST_TOOLS,
  imageDirCheck,
  parseDf,
  parseEpoch,
  qemuToolsCheck,
  skipped,
  tlsFilesCheck,
  type VersionTriple,
  versionsCheck,
} from './checks.js';
import {
  chainCheck,
  expiryCheck,
  fleetCa,
  type HostCerts,
  namesCheck,
  parseCert,
  TLS_CERT_FILES,
  TLS_FILES,
} from './tls.js';
import { type CheckResult, DOCTOR_CHECKS, type DoctorReport, type HostReport } from './types.js';

export interface DoctorSsh {
  resolved: { hostname: string; port: number };
  exec(
    argv: readonly string[],
    options?: { timeoutMs?: number },
  ): Promise<{ stdout: string; stderr: string; code: number | null }>;
  openUnixSocket(path: string): Promise<{ destroy(): void }>;
}

export interface DoctorLibvirt {
  getLibVersion(): Promise<VersionTriple>;
  getHypervisorVersion(): Promise<VersionTriple>;
}

export interface DoctorPorts {
  /** A connection that refuses unknown host keys, whatever ssh.acceptUnknownHostKeys says. */
  ssh(host: string): Promise<DoctorSsh>;
  libvirt(host: string): Promise<DoctorLibvirt>;
  /** This machine's clock, in ms since the epoch. */
  now(): number;
}

export interface DoctorHost {
  name: string;
  address: string;
  imageDir: string;
}

export interface DoctorSettings {
  /** tls.certDir; unset: the TLS checks fail with how to set it. */
  certDir?: string;
  /** The fleet CA certificate (PEM) from tls.caFile, when set. */
  caPem?: string;
  /** Under this, the image directory check fails. */
  minFreeBytes: number;
  /** libvirtd's socket, reached by stream-local forwarding. */
  libvirtSocket: string;
}

const EXEC_TIMEOUT_MS = 15_000;

interface Probed {
  results: CheckResult[];
  certs: HostCerts;
  /** The names the host's certificates may carry. */
  names: string[];
  /** Why the TLS content could not be read, when it could not. */
  tlsSkip?: string;
}

export async function runDoctor(
  hosts: readonly DoctorHost[],
  ports: DoctorPorts,
  settings: DoctorSettings,
): Promise<DoctorReport> {
  const checkedAt = new Date(ports.now()).toISOString();
  const probed = await Promise.all(hosts.map((host) => probeHost(host, ports, settings)));
  const configured = settings.caPem ? parseCert(settings.caPem) : undefined;
  if (configured instanceof Error) throw new RehomeError(`tls.caFile: ${configured.message}`, 'config');
  const fleet = fleetCa(
    probed.map((entry) => entry.certs['ca-cert.pem']),
    configured,
  );
  const reports: HostReport[] = hosts.map((host, index) => {
    const entry = probed[index] as Probed;
    const tls = entry.tlsSkip
      ? skipped(['tls-chain', 'tls-names', 'tls-expiry'], entry.tlsSkip)
      : [
          chainCheck(entry.certs, fleet.ca),
          namesCheck(entry.certs, entry.names),
          expiryCheck(entry.certs, new Date(ports.now())),
        ];
    const checks = [...entry.results, ...tls].sort(
      (a, b) => DOCTOR_CHECKS.indexOf(a.check) - DOCTOR_CHECKS.indexOf(b.check),
    );
    return { host: host.name, ok: checks.every((check) => check.status !== 'fail'), checks };
  });
  return {
    checkedAt,
    ok: reports.every((report) => report.ok),
    fleetCa: { source: fleet.source, fingerprint: fleet.ca?.fingerprint256 ?? null },
    hosts: reports,
  };
}

async function probeHost(host: DoctorHost, ports: DoctorPorts, settings: DoctorSettings): Promise<Probed> {
  const names = [host.name, host.address.replace(/^.*@/, '')];
  let ssh: DoctorSsh;
  try {
    ssh = await ports.ssh(host.name);
  } catch (err) {
    return { results: connectFailure(err), certs: {}, names, tlsSkip: 'no SSH connection' };
  }
  names.push(ssh.resolved.hostname);
  const results: CheckResult[] = [
    { check: 'host-key', status: 'ok', detail: 'known (in known_hosts)' },
    { check: 'ssh', status: 'ok', detail: `connected to ${ssh.resolved.hostname}:${ssh.resolved.port}` },
  ];
  const run = (argv: readonly string[]) => ssh.exec(argv, { timeoutMs: EXEC_TIMEOUT_MS });
  const [streamLocal, tools, tls, imageDir, clock] = await Promise.all([
    streamLocalAndVersions(host.name, ssh, ports, settings.libvirtSocket),
    run(['which', ...HOST_TOOLS.map((entry) => entry.tool)]).then(
      (out) => qemuToolsCheck(out.stdout),
      failed('qemu-tools'),
    ),
    readTls(run, settings.certDir),
    run(['df', '-P', '-B1', '--', host.imageDir]).then(
      (out) => diskCheck(host.imageDir, out, settings),
      failed('image-dir'),
    ),
    clockOf(run, ports),
  ]);
  return {
    results: [...results, ...streamLocal, tools, tls.files, imageDir, clock],
    certs: tls.certs,
    names,
    ...tls.skip,
  };
}

/** A connection error is about the host key (kind host-key) or about reaching the host at all. */
function connectFailure(err: unknown): CheckResult[] {
  const message = (err as Error).message;
  const hints = err instanceof RehomeError ? err.hints : [];
  const rest = DOCTOR_CHECKS.filter((check) => check !== 'host-key' && check !== 'ssh');
  if (err instanceof RehomeError && err.kind === 'host-key')
    return [
      { check: 'host-key', status: 'fail', detail: message, ...(hints[0] ? { fix: hints[0] } : {}) },
      ...skipped(['ssh', ...rest], 'the host key was refused'),
    ];
  return [
    { check: 'host-key', status: 'skip', detail: 'not checked: no connection' },
    {
      check: 'ssh',
      status: 'fail',
      detail: message,
      fix: hints[0] ?? 'Check the address, the network and sshd.',
    },
    ...skipped(rest, 'no SSH connection'),
  ];
}

/**
 * sshd's stream-local forwarding, then libvirtd through it (the socket rehome's libvirt client uses). OpenSSH answers
 * a refused forward and a socket nobody listens on alike ("open failed", connect failed), so when the forward fails
 * the socket itself is looked at: there and a socket, sshd is what refuses.
 */
async function streamLocalAndVersions(
  host: string,
  ssh: DoctorSsh,
  ports: DoctorPorts,
  socket: string,
): Promise<CheckResult[]> {
  try {
    (await ssh.openUnixSocket(socket)).destroy();
  } catch (err) {
    const message = (err as Error).message;
    const socketThere = await ssh
      .exec(['test', '-S', socket], { timeoutMs: EXEC_TIMEOUT_MS })
      .then((out) => out.code === 0)
      .catch(() => false);
    if (socketThere || refusedBySshd(err))
      return [
        {
          check: 'stream-local',
          status: 'fail',
          detail: `sshd refused to forward ${socket}, which is there: ${message}`,
          fix: 'Set AllowStreamLocalForwarding yes (or local) in the host’s sshd_config, then reload sshd.',
        },
        ...skipped(['versions'], 'stream-local forwarding is refused'),
      ];
    return [
      { check: 'stream-local', status: 'ok', detail: 'allowed (but the socket did not answer)' },
      {
        check: 'versions',
        status: 'fail',
        detail: `libvirtd is not listening on ${socket}: ${message}`,
        fix: `Start libvirtd on ${host} (systemctl start libvirtd).`,
      },
    ];
  }
  const streamLocal: CheckResult = { check: 'stream-local', status: 'ok', detail: `allowed (${socket})` };
  try {
    const libvirt = await ports.libvirt(host);
    const [lib, qemu] = await Promise.all([libvirt.getLibVersion(), libvirt.getHypervisorVersion()]);
    return [streamLocal, versionsCheck(lib, qemu)];
  } catch (err) {
    return [
      streamLocal,
      {
        check: 'versions',
        status: 'fail',
        detail: `libvirtd did not answer: ${(err as Error).message}`,
        fix: `Check libvirtd on ${host} (journalctl -u libvirtd).`,
      },
    ];
  }
}

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254): sshd's AllowStreamLocalForwarding says no. */
const ADMINISTRATIVELY_PROHIBITED = 1;

function refusedBySshd(err: unknown): boolean {
  const reason = ((err as Error).cause as { reason?: unknown } | undefined)?.reason;
  return reason === ADMINISTRATIVELY_PROHIBITED || /prohibited/i.test((err as Error).message);
}

type Run = (argv: readonly string[]) => Promise<{ stdout: string; stderr: string; code: number | null }>;

async function readTls(
  run: Run,
  certDir: string | undefined,
): Promise<{ files: CheckResult; certs: HostCerts; skip?: { tlsSkip: string } }> {
  if (!certDir)
    return {
      files: {
        check: 'tls-files',
        status: 'fail',
        detail: 'tls.certDir is not set in the rehome config',
        fix: 'Set tls.certDir to the directory of ca-cert.pem, server-*.pem and client-*.pem on every host.',
      },
      certs: {},
      skip: { tlsSkip: 'tls.certDir is not set' },
    };
  const paths = TLS_CERT_FILES.map((file) => `${certDir}/${file}`);
  // The listing and every certificate in one round trip: grep -H writes each line after its file's path.
  const [listing, texts] = await Promise.all([
    run(['ls', '-1', '--', certDir]).catch((err: Error) => ({ stdout: '', stderr: err.message, code: 1 })),
    run(['grep', '-a', '-H', '', '--', ...paths]).catch((err: Error) => ({
      stdout: '',
      stderr: paths.map((path) => `grep: ${path}: ${err.message}`).join('\n'),
      code: 2,
    })),
  ]);
  if (listing.code !== 0)
    return {
      files: {
        check: 'tls-files',
        status: 'fail',
        detail: `${certDir}: ${listing.stderr.trim() || 'cannot be listed'}`,
        fix: `Create ${certDir} with the fleet certificates (qemu.conf's nbd_tls_x509_cert_dir).`,
      },
      certs: {},
      skip: { tlsSkip: `${certDir} cannot be read` },
    };
  const present = new Set(listing.stdout.split('\n'));
  const read = filesFromGrep(texts, paths);
  const certs: HostCerts = {};
  for (const [i, file] of TLS_CERT_FILES.entries()) {
    const text = read[i] as string | Error;
    if (present.has(file)) certs[file] = text instanceof Error ? text : parseCert(text);
  }
  return { files: tlsFilesCheck(certDir, listing.stdout, TLS_FILES), certs };
}

/**
 * The text of each of `paths` from `grep -a -H '' -- PATHS` (each line prefixed by `PATH:`), or the error grep gave
 * for it (`grep: PATH: message` on stderr).
 */
function filesFromGrep(
  out: { stdout: string; stderr: string },
  paths: readonly string[],
): (string | Error)[] {
  const lines = paths.map((): string[] => []);
  for (const line of out.stdout.split('\n')) {
    const i = paths.findIndex((path) => line.startsWith(`${path}:`));
    if (i >= 0) lines[i]?.push(line.slice((paths[i] as string).length + 1));
  }
  return paths.map((path, i) => {
    const error = out.stderr.split('\n').find((line) => line.startsWith(`grep: ${path}: `));
    if (error) return new Error(error.trim());
    return lines[i]?.length ? `${(lines[i] as string[]).join('\n')}\n` : '';
  });
}

function diskCheck(
  path: string,
  out: { stdout: string; stderr: string; code: number | null },
  settings: DoctorSettings,
): CheckResult {
  const space = out.code === 0 ? parseDf(path, out.stdout) : undefined;
  if (!space)
    return {
      check: 'image-dir',
      status: 'fail',
      detail: `${path}: ${out.stderr.trim() || 'df gave no figures'}`,
      fix: `Create ${path} on the host, or set the host’s imageDir in the rehome config.`,
    };
  return imageDirCheck(space, settings.minFreeBytes);
}

async function clockOf(run: Run, ports: DoctorPorts): Promise<CheckResult> {
  try {
    const sentAt = ports.now();
    const out = await run(['date', '+%s.%N']);
    const receivedAt = ports.now();
    const remote = parseEpoch(out.stdout);
    if (remote === undefined)
      return { check: 'clock', status: 'fail', detail: `cannot read the host’s clock: ${out.stdout.trim()}` };
    return clockCheck(remote, sentAt, receivedAt);
  } catch (err) {
    return failed('clock')(err);
  }
}

function failed(check: CheckResult['check']): (err: unknown) => CheckResult {
  return (err) => ({ check, status: 'fail', detail: `could not check: ${(err as Error).message}` });
}

import { posix } from 'node:path';
import { RehomeError } from '../errors.js';
import { noDelayListenerArgv } from './nodelay-listener.js';
import { mustExec, type RemoteShell, run } from './remote.js';
import { liveProcessArgv, waitForPidArgv } from './remote-process.js';
import type { CreateExportSpec, ExportState, NbdExport } from './types.js';

/** The ports rehome's exports use on a target; the first free one is taken. */
export const NBD_PORT_RANGE = { first: 10809, last: 10999 } as const;

/** Local TCP ports in LISTEN state, from `ss -Htln`. */
export function parseListeningPorts(ssOutput: string): Set<number> {
  const ports = new Set<number>();
  for (const line of ssOutput.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    const port = Number(local?.slice(local.lastIndexOf(':') + 1));
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}

export function pickFreePort(used: ReadonlySet<number>, avoid: readonly number[] = []): number {
  for (let port = NBD_PORT_RANGE.first; port <= NBD_PORT_RANGE.last; port++) {
    if (!used.has(port) && !avoid.includes(port)) return port;
  }
  throw new RehomeError(
    `No free NBD port in ${NBD_PORT_RANGE.first}-${NBD_PORT_RANGE.last} on the target`,
    'migration-failed',
  );
}

/**
 * qemu-nbd's argv. Only the source host may connect, and only once at a time: the TLS handshake requires a client
 * certificate of the fleet CA, and the `authz-simple` object admits only the one whose distinguished name is the
 * source's (`allowedClientDn`). The authz object is given as JSON, so a DN's commas need no escaping; the certificate
 * directory goes into a key=value option string, where a comma would start another option: it is refused.
 * qemu-nbd listens on the socket noDelayListenerArgv gives it (TCP_NODELAY, bound to the target's address and `port`).
 */
export function qemuNbdArgv(spec: CreateExportSpec, port: number, pidFile: string): string[] {
  if (spec.certDir.includes(',')) {
    throw new RehomeError(
      `tls.certDir ${spec.certDir} contains a comma, which qemu-nbd would read as the start of another option`,
      'config',
      ['Move the NBD TLS certificates to a directory whose path has no comma, and set tls.certDir to it.'],
      { subject: { code: 'cert-dir-comma', path: spec.certDir } },
    );
  }
  const format = spec.format ?? 'qcow2';
  return noDelayListenerArgv(spec.bindAddress, port, [
    'qemu-nbd',
    '-f',
    format,
    // A raw copy stays sparse: the mirror's zero writes may punch holes instead of allocating.
    ...(format === 'raw' ? ['--discard=unmap'] : []),
    '-x',
    spec.exportName,
    '--persistent',
    '--shared=1',
    '--fork',
    `--pid-file=${pidFile}`,
    '--object',
    `tls-creds-x509,id=tls0,endpoint=server,dir=${spec.certDir},verify-peer=on`,
    '--object',
    JSON.stringify({ 'qom-type': 'authz-simple', id: 'auth0', identity: spec.allowedClientDn }),
    '--tls-creds',
    'tls0',
    '--tls-authz',
    'auth0',
    spec.imagePath,
  ]);
}

async function pathExists(shell: RemoteShell, path: string): Promise<boolean> {
  return (await run(shell, ['test', '-e', path])).code === 0;
}

/** An export journaled before createExport makes its image: whatever is at these paths then is rehome's own. */
export type ClaimedExport = Pick<NbdExport, 'disk' | 'host' | 'imagePath' | 'exportName' | 'pidFile'>;

export function pidFileFor(runDir: string, exportName: string): string {
  return posix.join(runDir, `${exportName}.pid`);
}

/**
 * Creates an empty qcow2 of the given virtual size and exports it over NBD with x509 TLS (client certificate
 * required). Refuses to overwrite an existing image. The port is the first free one; a lost race for it is retried.
 * `claim` runs once the image is known not to exist, before anything is created: the caller journals the image
 * there, so that what an interrupted call leaves is known to be its own (see removeUnfinishedExport).
 */
export async function createExport(
  shell: RemoteShell,
  spec: CreateExportSpec,
  claim: () => Promise<void> = async () => {},
): Promise<NbdExport> {
  const format = spec.format ?? 'qcow2';
  // A volume the caller created through libvirt's storage API (spec.volume) exists already and is exported as it is.
  if (!spec.volume) {
    if (await pathExists(shell, spec.imagePath)) {
      throw new RehomeError(
        `${spec.imagePath} already exists on ${spec.host}; rehome will not overwrite it`,
        'migration-failed',
        ['Remove it, or cancel the migration that created it.'],
      );
    }
    await claim();
    await mustExec(shell, ['mkdir', '-p', spec.runDir, posix.dirname(spec.imagePath)]);
    await mustExec(shell, [
      'qemu-img',
      'create',
      '-q',
      '-f',
      format,
      spec.imagePath,
      String(spec.virtualSizeBytes),
    ]);
  } else await mustExec(shell, ['mkdir', '-p', spec.runDir]);
  const pidFile = pidFileFor(spec.runDir, spec.exportName);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const used = parseListeningPorts((await mustExec(shell, ['ss', '-Htln'])).stdout);
    const port = pickFreePort(used, spec.avoidPorts);
    try {
      await mustExec(shell, qemuNbdArgv(spec, port, pidFile));
      const pid = Number((await mustExec(shell, ['cat', pidFile])).stdout.trim());
      return {
        disk: spec.disk,
        host: spec.host,
        address: spec.bindAddress,
        port,
        exportName: spec.exportName,
        imagePath: spec.imagePath,
        format,
        virtualSizeBytes: spec.virtualSizeBytes,
        pid,
        pidFile,
        ...(spec.volume ? { volume: spec.volume } : {}),
      };
    } catch (err) {
      lastError = err;
      if (!/address already in use/i.test((err as Error).message)) break;
    }
  }
  if (!spec.volume) await run(shell, ['rm', '-f', spec.imagePath]);
  throw lastError;
}

/** Whether a process's argv is our qemu-nbd serving this export (a reused pid is not ours). */
export function isOurQemuNbd(argv: readonly string[], exportName: string): boolean {
  return posix.basename(argv[0] ?? '') === 'qemu-nbd' && argv.includes(exportName);
}

/** Alive means: the pid runs, is not a zombie, and is qemu-nbd serving this export. One round trip. */
export async function observeExport(
  shell: RemoteShell,
  nbd: Pick<NbdExport, 'pid' | 'exportName'>,
  timeoutMs?: number,
): Promise<ExportState> {
  const argv = await liveProcessArgv(shell, nbd.pid, timeoutMs);
  return argv && isOurQemuNbd(argv, nbd.exportName) ? 'alive' : 'gone';
}

/** SIGTERM, then wait until it has exited: qemu-nbd flushes the image on the way out. Idempotent. */
export async function closeExport(
  shell: RemoteShell,
  nbd: Pick<NbdExport, 'host' | 'pid' | 'exportName' | 'pidFile'>,
  timeoutMs = 15_000,
): Promise<void> {
  if ((await observeExport(shell, nbd)) === 'alive') return stopObservedExport(shell, nbd, timeoutMs);
  await run(shell, ['rm', '-f', nbd.pidFile]);
}

/**
 * closeExport for an export just observed alive (observeExport, moments ago in the same run: never a pid read from
 * the journal alone, which may name a process that has since exited and a pid reused). The signal, the wait and the
 * pid file's removal go out together, one round trip: `tail --pid` returns once the pid is gone, at once if it already
 * is, and waits for a zombie until it is reaped, so when it returns this qemu-nbd has exited. The journal keeps the
 * pid; qemu-nbd never reads its pid file again.
 */
export async function stopObservedExport(
  shell: RemoteShell,
  nbd: Pick<NbdExport, 'host' | 'pid' | 'exportName' | 'pidFile'>,
  timeoutMs = 15_000,
): Promise<void> {
  const pid = String(nbd.pid);
  const [, waited] = await Promise.all([
    run(shell, ['kill', '-TERM', pid]),
    run(shell, waitForPidArgv(nbd.pid), timeoutMs).catch((err: Error) => err),
    run(shell, ['rm', '-f', nbd.pidFile]),
  ]);
  // A zombie nobody reaps keeps tail waiting until its timeout, but has exited: only a live one is a failure.
  if (waited instanceof Error && (await observeExport(shell, nbd)) === 'alive') {
    throw new RehomeError(
      `qemu-nbd (pid ${nbd.pid}) on ${nbd.host} did not exit after SIGTERM`,
      'migration-failed',
      [],
      { cause: waited },
    );
  }
}

/**
 * What an interrupted createExport of ours may have left: its qemu-nbd, if the pid file names one serving this
 * export, the pid file and the image. Only for an image claimed before it was created. Idempotent.
 */
export async function removeUnfinishedExport(shell: RemoteShell, claimed: ClaimedExport): Promise<void> {
  const pidFile = await run(shell, ['cat', claimed.pidFile]);
  const pid = pidFile.code === 0 ? Number(pidFile.stdout.trim()) : 0;
  await closeExport(shell, { ...claimed, pid });
  await removeImage(shell, claimed);
}

/** Removes the target image (only after its export is closed). Idempotent. */
export async function removeImage(shell: RemoteShell, nbd: Pick<NbdExport, 'imagePath'>): Promise<void> {
  await mustExec(shell, ['rm', '-f', nbd.imagePath]);
}

/** The virtual size in bytes of an image on a host; `-U` because the running QEMU holds it. */
export async function imageVirtualSize(shell: RemoteShell, path: string): Promise<number> {
  const { stdout } = await mustExec(shell, ['qemu-img', 'info', '-U', '--output=json', path]);
  const size = (JSON.parse(stdout) as { 'virtual-size'?: number })['virtual-size'];
  if (typeof size !== 'number')
    throw new RehomeError(`qemu-img info gave no virtual size for ${path}`, 'migration-failed');
  return size;
}

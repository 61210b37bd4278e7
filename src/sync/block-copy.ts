import { RehomeError } from '../errors.js';
import type { LibvirtClient } from '../libvirt/client.js';
import { blockCopyParams } from '../libvirt/client.js';
import { BlockCopyFlags, BlockJobAbortFlags, DomainState } from '../libvirt/protocol/constants.js';
import type { DomainRef } from '../libvirt/protocol/types.js';
import { jobSpeedUnder, mirrorBufSize } from './mirror-budget.js';
import type { MirrorMode, MirrorProgress, NbdExport } from './types.js';

/** What the block copy needs of a libvirt client (a fake in unit tests). */
export type BlockJobClient = Pick<
  LibvirtClient,
  'blockCopy' | 'getBlockJobInfo' | 'blockJobAbort' | 'getDomainState'
>;

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

/** The block copy destination: the target's export, raw over NBD, TLS with the fleet certificates (qemu.conf). */
export function nbdDestinationXml(nbd: Pick<NbdExport, 'exportName' | 'address' | 'port'>): string {
  return (
    `<disk type='network'><driver name='qemu' type='raw'/>` +
    `<source protocol='nbd' name='${escapeAttr(nbd.exportName)}' tls='yes'>` +
    `<host name='${escapeAttr(nbd.address)}' port='${nbd.port}'/></source></disk>`
  );
}

export function blockCopyFlags(mode: MirrorMode): number {
  return BlockCopyFlags.transientJob | (mode === 'write-blocking' ? BlockCopyFlags.synchronousWrites : 0);
}

/** Starts mirroring one disk into its export. The job lives in the source's QEMU, across guest reboots. */
export async function startMirror(
  client: BlockJobClient,
  domain: DomainRef,
  nbd: NbdExport,
  options: { mode?: MirrorMode; bandwidthBytesPerSec?: number } = {},
): Promise<void> {
  const speed = options.bandwidthBytesPerSec && jobSpeedUnder(options.bandwidthBytesPerSec);
  // A smaller buffer under a budget: QEMU sends a buffer at a time, so it is also the size of its bursts.
  const params = blockCopyParams(
    speed ? { bandwidth: BigInt(speed), bufSize: BigInt(mirrorBufSize(speed)) } : {},
  );
  await client.blockCopy(
    domain,
    nbd.disk,
    nbdDestinationXml(nbd),
    params,
    blockCopyFlags(options.mode ?? 'background'),
  );
}

export async function mirrorProgress(
  client: BlockJobClient,
  domain: DomainRef,
  disk: string,
): Promise<MirrorProgress> {
  const info = await client.getBlockJobInfo(domain, disk);
  if (!info) return { disk, cur: 0, end: 0, present: false, converged: false };
  const cur = Number(info.cur);
  const end = Number(info.end);
  return { disk, cur, end, present: true, converged: end > 0 && cur === end };
}

export function sumProgress(progress: readonly MirrorProgress[]): {
  cur: number;
  end: number;
  converged: boolean;
} {
  return {
    cur: progress.reduce((sum, p) => sum + p.cur, 0),
    end: progress.reduce((sum, p) => sum + p.end, 0),
    converged: progress.length > 0 && progress.every((p) => p.converged),
  };
}

/**
 * Ends the copy without pivot: the target then holds exactly what the source held. libvirt asks QEMU for a soft
 * `block-job-cancel`, and QEMU ends a ready mirror only once nothing is dirty and the target is flushed
 * (BLOCK_JOB_COMPLETED; seen in libvirt 9.0's QMP log). Refused unless the guest is paused and the job has no dirty
 * data: ending a copy while the guest runs freezes the target while the source moves on. A job already gone is
 * refused too: it may have failed, and nothing left tells a failed job from a completed one.
 */
export async function endMirrorWithoutPivot(
  client: BlockJobClient,
  domain: DomainRef,
  disk: string,
): Promise<void> {
  const state = await client.getDomainState(domain);
  if (state.state !== DomainState.paused) {
    throw new RehomeError(
      `Refusing to end the mirror of ${domain.name}/${disk}: the guest is not paused`,
      'migration-failed',
    );
  }
  const progress = await mirrorProgress(client, domain, disk);
  if (!progress.present) {
    throw new RehomeError(
      `The block job of ${domain.name}/${disk} ended before rehome ended it: the copy on the target cannot be trusted`,
      'migration-failed',
    );
  }
  if (!progress.converged) {
    throw new RehomeError(
      `Refusing to end the mirror of ${domain.name}/${disk}: ${progress.end - progress.cur} bytes not yet copied`,
      'migration-failed',
    );
  }
  await client.blockJobAbort(domain, disk, BlockJobAbortFlags.none);
}

/**
 * Cancels a copy whatever its state (rollback and cancel: the target copy is discarded). Idempotent. The cancel is
 * asked without waiting in libvirt, and its end is watched here: QEMU ends the job only once its NBD requests are
 * answered, and a target that vanished never answers. After `stuckMs` without an end, `unstick` runs (the caller cuts
 * the source's connections to the export, so the requests fail at once); a job still there after that is an error.
 */
export async function abandonMirror(
  client: BlockJobClient,
  domain: DomainRef,
  disk: string,
  options: { unstick?: () => Promise<void>; stuckMs?: number } = {},
): Promise<void> {
  if (!(await client.getBlockJobInfo(domain, disk))) return;
  await client.blockJobAbort(domain, disk, BlockJobAbortFlags.async);
  const stuckMs = options.stuckMs ?? 5000;
  if (await jobEnded(client, domain, disk, stuckMs)) return;
  if (options.unstick) {
    await options.unstick();
    if (await jobEnded(client, domain, disk, stuckMs)) return;
  }
  throw new RehomeError(
    `the block job of ${domain.name}/${disk} was cancelled but has not ended (its target does not answer)`,
    'migration-failed',
  );
}

async function jobEnded(
  client: BlockJobClient,
  domain: DomainRef,
  disk: string,
  ms: number,
): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (!(await client.getBlockJobInfo(domain, disk))) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A value inside a QEMU key=value option string: a comma is doubled, or it would start another option. */
function optionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * qemu-img's argv, run on the source, that copies read-only content (a cdrom image, a read-only disk) once into the
 * target's export: libvirt refuses to block-copy a read-only disk, and nothing writes it while the guest runs.
 * `-U`: the running QEMU holds the image (shared, read-only); `-f`: the format is the definition's, never probed.
 * The client certificate is the source's own (the same one libvirt's block copy presents), so the export's authz
 * admits it.
 */
export function copyOnceArgv(
  source: { path: string; format: string },
  nbd: Pick<NbdExport, 'address' | 'port' | 'exportName'>,
  certDir: string,
): string[] {
  const target = [
    'driver=nbd',
    'server.type=inet',
    `server.host=${optionValue(nbd.address)}`,
    `server.port=${nbd.port}`,
    `export=${optionValue(nbd.exportName)}`,
    'tls-creds=tls0',
  ].join(',');
  return [
    'qemu-img',
    'convert',
    '-U',
    '-n',
    '-f',
    source.format,
    '--object',
    `tls-creds-x509,id=tls0,endpoint=client,dir=${optionValue(certDir)}`,
    '--target-image-opts',
    source.path,
    target,
  ];
}

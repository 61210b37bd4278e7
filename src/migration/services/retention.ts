/**
 * Retention: after its time, the source disks of a finished move go, but only those rehome copied and nothing else
 * uses (src/disks/retention decides; this reads the host and acts). Every removal and every skip is audited with the
 * path and its size.
 */
import { posix } from 'node:path';
import { normalizeAbsolute } from '../../disks/names.js';
import {
  type HostReferences,
  mayRemove,
  type RetainedDisk,
  type RetainedSet,
  retainedOf,
} from '../../disks/retention.js';
import type { LibvirtClient } from '../../libvirt/client.js';
import { DomainXml } from '../../libvirt/domain-xml.js';
import { isNoStorageVol } from '../../libvirt/errors.js';
import type { MigrationRecord } from '../../store/types.js';
import { type RemoteShell, run } from '../../sync/remote.js';
import type { Runtime } from '../runtime.js';

type Outcome = NonNullable<RetainedSet['outcome']>[number];

/** Every disk, backing file and pool volume that a domain defined on the host references now. */
export async function hostReferences(libvirt: LibvirtClient, shell: RemoteShell): Promise<HostReferences> {
  const paths = new Set<string>();
  const volumes = new Set<string>();
  const add = (path: string | undefined) => {
    const normal = normalizeAbsolute(path);
    if (normal) paths.add(normal);
  };
  for (const ref of await libvirt.listAllDomains()) {
    const xml = DomainXml.parse(await libvirt.getDomainXml(ref));
    const running = ref.id > 0;
    for (const disk of xml.disks) {
      add(disk.path);
      for (const backing of disk.backingFiles) add(backing);
      if (disk.type === 'volume' && disk.source.pool && disk.source.volume) {
        volumes.add(`${disk.source.pool}/${disk.source.volume}`);
      }
      // A shut-off domain's definition does not describe its chain: ask qemu-img for the backing files.
      if (!running && disk.type === 'file' && disk.path) {
        for (const backing of await backingChain(shell, disk.path)) add(backing);
      }
    }
  }
  return { paths, volumes };
}

async function backingChain(shell: RemoteShell, path: string): Promise<string[]> {
  const info = await run(shell, ['qemu-img', 'info', '-U', '--backing-chain', '--output=json', '--', path]);
  if (info.code !== 0) return [];
  try {
    const chain = JSON.parse(info.stdout) as unknown;
    if (!Array.isArray(chain)) return [];
    return (chain as { 'full-backing-filename'?: string }[]).flatMap((image) =>
      image['full-backing-filename'] ? [image['full-backing-filename']] : [],
    );
  } catch {
    return [];
  }
}

async function sizeOf(shell: RemoteShell, path: string): Promise<number | undefined> {
  const stat = await run(shell, ['stat', '-L', '-c', '%s', '--', path]);
  const bytes = Number(stat.stdout.trim());
  return stat.code === 0 && Number.isFinite(bytes) ? bytes : undefined;
}

async function removeOne(libvirt: LibvirtClient, shell: RemoteShell, disk: RetainedDisk): Promise<void> {
  if (disk.kind === 'volume' && disk.pool && disk.volume) {
    try {
      const pool = await libvirt.lookupStoragePoolByName(disk.pool);
      await libvirt.deleteStorageVol(await libvirt.lookupStorageVolByName(pool, disk.volume));
    } catch (err) {
      if (!isNoStorageVol(err)) throw err;
    }
    return;
  }
  const result = await run(shell, ['rm', '-f', '--', disk.path]);
  if (result.code !== 0) throw new Error(result.stderr.trim() || `rm exited ${result.code}`);
}

/**
 * One retention pass over a done migration whose time has passed: each retained disk is removed, or skipped with its
 * reason. The pass is recorded (removedAt, per-path outcome) and not repeated; a skipped disk stays for the operator.
 */
export async function removeRetained(
  rt: Runtime,
  record: MigrationRecord,
  now: Date,
): Promise<{ removed: Outcome[]; skipped: Outcome[] } | undefined> {
  const retained = (record.job as { retained?: RetainedSet }).retained;
  if (!retained || retained.removedAt || Date.parse(retained.until) > now.getTime()) return undefined;
  const [shell, libvirt] = await Promise.all([rt.hosts.ssh(retained.host), rt.hosts.libvirt(retained.host)]);
  const refs = await hostReferences(libvirt, shell);
  const outcome: Outcome[] = [];
  for (const disk of retainedOf(retained)) {
    const bytes = await sizeOf(shell, disk.path);
    const verdict = mayRemove(disk, refs);
    const base = { path: posix.normalize(disk.path), ...(bytes !== undefined ? { bytes } : {}) };
    if (verdict.remove) await removeOne(libvirt, shell, disk);
    const done: Outcome = verdict.remove
      ? {
          ...base,
          action: 'removed',
          reason: disk.kind === 'volume' ? `volume ${disk.pool}/${disk.volume} deleted` : 'file removed',
        }
      : { ...base, action: 'skipped', reason: verdict.reason };
    outcome.push(done);
    await rt.store.appendAudit({
      migrationId: record.id,
      vm: record.vmUuid,
      step: verdict.remove ? 'remove-retained' : 'retention-skip',
      outcome: verdict.remove ? 'ok' : 'info',
      detail: { host: retained.host, disk: disk.target, kind: disk.kind, ...done },
    });
  }
  await rt.store.updateDetails(record.id, record.phase, {
    job: { ...record.job, retained: { ...retained, removedAt: now.toISOString(), outcome } },
  });
  return {
    removed: outcome.filter((o) => o.action === 'removed'),
    skipped: outcome.filter((o) => o.action === 'skipped'),
  };
}

/**
 * Retention: which of the source disks a finished move left behind may go once their time has passed. Pure: the
 * caller reads what the host's domains reference at that moment and hands it in.
 */

import { normalizeAbsolute } from './names.js';
import type { CopyInto } from './policy.js';

/** One source disk kept after a move. */
export interface RetainedDisk {
  /** Guest device it was, e.g. `vda`. */
  target: string;
  /** `file`: removed with rm; `volume`: deleted through libvirt's storage API; `block`: never removed by rehome. */
  kind: 'file' | 'volume' | 'block';
  /** The path on the source host (a volume's path too). */
  path: string;
  pool?: string;
  volume?: string;
  /** Why it is never removed (read-only, removable media); absent: removable when unreferenced. */
  keep?: string;
}

/** What retention records for a done migration (`job.retained`). `paths` is the older shape, kept for old records. */
export interface RetainedSet {
  host: string;
  until: string;
  paths: string[];
  disks?: RetainedDisk[];
  removedAt?: string;
  /** What each pass did, per path. */
  outcome?: { path: string; action: 'removed' | 'skipped'; reason: string; bytes?: number }[];
}

/** What every domain defined on the host references at one moment: disk sources, backing files, pool volumes. */
export interface HostReferences {
  paths: ReadonlySet<string>;
  /** `pool/volume` of `type='volume'` disks. */
  volumes: ReadonlySet<string>;
}

export type RemovalVerdict = { remove: true } | { remove: false; reason: string };

/** A copied disk as the migration journals it (src/migration's MigrationDisk; older records lack the optional parts). */
export interface CopiedDisk {
  target: string;
  sourcePath: string;
  into?: CopyInto;
  keepOnSource?: boolean;
}

/** The source disks a finished move leaves behind: what each is and whether retention may ever remove it. */
export function retainedDisks(copied: readonly CopiedDisk[]): RetainedDisk[] {
  return copied.map((disk) => {
    const volume = disk.into?.kind === 'volume' && disk.into.definition === 'keep' ? disk.into : undefined;
    const block = disk.sourcePath.startsWith('/dev/') || (disk.into?.kind === 'volume' && !volume);
    const retained: RetainedDisk = {
      target: disk.target,
      kind: volume ? 'volume' : block ? 'block' : 'file',
      path: disk.sourcePath,
      ...(volume ? { pool: volume.pool, volume: volume.name } : {}),
    };
    if (disk.keepOnSource) retained.keep = 'read-only or removable media, maybe used by other guests';
    return retained;
  });
}

/** The older record shape (paths only) as disks: files, with nothing known of them. */
export function retainedOf(set: RetainedSet): RetainedDisk[] {
  return (
    set.disks ?? set.paths.map((path, index) => ({ target: `disk${index}`, kind: 'file' as const, path }))
  );
}

export function mayRemove(disk: RetainedDisk, refs: HostReferences): RemovalVerdict {
  if (disk.keep) return { remove: false, reason: disk.keep };
  if (disk.kind === 'block') return { remove: false, reason: 'a block device: rehome never removes one' };
  const path = normalizeAbsolute(disk.path);
  if (!path) return { remove: false, reason: `the path ${disk.path} is not absolute` };
  if (path.startsWith('/dev/') && disk.kind === 'file') {
    return { remove: false, reason: 'a device node, not a file rehome copied' };
  }
  if (refs.paths.has(path)) {
    return {
      remove: false,
      reason: 'a domain defined on the host references it (as a disk or a backing file)',
    };
  }
  if (disk.pool && disk.volume && refs.volumes.has(`${disk.pool}/${disk.volume}`)) {
    return { remove: false, reason: `a domain defined on the host uses volume ${disk.pool}/${disk.volume}` };
  }
  return { remove: true };
}

/**
 * The disk policy: for each disk of a domain, what a move does with it. One pure function used by inventory (and so
 * `plan drain`, `drain`, placement's blockers), by `migrate` with and without `--to`, by the cutover's definition of
 * the target and by retention. A decision is one of:
 * - `copy`: the guest-visible content goes to the target, into a file or a volume (see `DiskCopy`);
 * - `reattach`: shared or network storage every host sees: the definition keeps naming it, nothing is copied;
 * - `leave-out`: nothing to move (an empty drive), or removable media the operator asked to eject;
 * - `refuse`: rehome cannot move it right: a blocker, shown before anyone is told.
 * Each decision carries a stable `code` (for --json and scripts) and a sentence for people.
 */
import type { DiskInfo } from '../libvirt/domain-xml.js';
import { isUnderPrefix, logicalVolumeOf, normalizeAbsolute, unsafeName } from './names.js';

export type DiskAction = 'copy' | 'reattach' | 'leave-out' | 'refuse';

export type DiskCode =
  // copy
  | 'copy-qcow2'
  | 'copy-qcow2-chain-flattened'
  | 'copy-raw-sparse'
  | 'copy-converted-qcow2'
  | 'copy-block-to-volume'
  | 'copy-block-to-file'
  | 'copy-pool-volume'
  | 'copy-readonly'
  | 'copy-removable-media'
  // reattach
  | 'reattach-network'
  | 'reattach-shared-path'
  | 'reattach-shared-pool'
  // leave out
  | 'empty-drive'
  | 'eject-removable-media'
  // refuse
  | 'refuse-shareable-local'
  | 'refuse-unsupported-type'
  | 'refuse-lun'
  | 'refuse-no-source'
  | 'refuse-relative-path'
  | 'refuse-unsafe-name'
  | 'refuse-host-drive'
  | 'refuse-block-no-target'
  | 'refuse-volume-unresolved'
  | 'refuse-volume-pool-type'
  | 'refuse-size-unknown';

/** Where a copied disk lands on the target. Names are validated: safe as one path component each. */
export type CopyInto =
  /** A new file `<imageDir>/<vm>-<dev>.<ext>`; the definition is repointed at it (`type='file'`). */
  | { kind: 'file'; fileName: string; format: 'qcow2' | 'raw' }
  /** A new volume created through libvirt's storage API in the target's pool `pool`. */
  | {
      kind: 'volume';
      pool: string;
      name: string;
      format: string;
      /** `keep`: the definition still names pool/volume; `block`: the disk's `<source dev>` is repointed at it. */
      definition: 'keep' | 'block';
    };

export interface DiskCopy {
  /** `mirror`: a background block copy, kept in sync until the cutover. `once`: read-only content, copied once. */
  method: 'mirror' | 'once';
  into: CopyInto;
  /** The source image's format, as the definition gives it (`qemu-img -f`). */
  sourceFormat: string;
  /** A backing chain on the source becomes one standalone image on the target. */
  flattened: boolean;
  /** Never removed from the source by retention (read-only or removable media, maybe used by other guests). */
  keepOnSource: boolean;
}

export interface DiskDecision {
  /** Guest device, e.g. `vda`. */
  target: string;
  action: DiskAction;
  code: DiskCode;
  reason: string;
  /** The source path (normalised) or `pool/volume` or `protocol://…`. */
  source: string;
  copy?: DiskCopy;
}

export interface DiskPolicyOptions {
  /** Paths under these prefixes are on storage every host sees. */
  sharedPrefixes?: readonly string[];
  /** libvirt storage pools (by name) on storage every host sees. */
  sharedPools?: readonly string[];
  /** Local block devices: into a volume of `blockPool` on the target (default), or into a raw file. */
  blockDisksInto?: 'volume' | 'file';
  /** The libvirt pool (logical or dir) on targets that receives copies of block devices. */
  blockPool?: string;
  /** cdrom/floppy media on local storage: copied once (default) or ejected on the target. */
  removableMedia?: 'copy' | 'eject';
}

/** What was read about a `type='volume'` disk's pool and volume on the source (the policy itself reads nothing). */
export interface VolumeFacts {
  /** The pool's type: dir, fs, logical, netfs, rbd, iscsi, ... */
  poolType: string;
  /** The volume's path on the source host. */
  path: string;
  /** The volume's format (dir pools: qcow2, raw, ...); none for logical volumes. */
  format?: string;
}

export interface DiskFactsForPolicy {
  /** Resolved `type='volume'` source; missing: could not be read. */
  volume?: VolumeFacts;
}

/** Pool types whose volumes rehome creates and copies through libvirt's storage API. */
const COPYABLE_POOL_TYPES = new Set(['dir', 'fs', 'logical']);

export function decideDisk(
  vmName: string,
  disk: DiskInfo,
  options: DiskPolicyOptions = {},
  facts: DiskFactsForPolicy = {},
): DiskDecision {
  const dev = disk.targetDev;
  const source = describeSource(disk);
  const decision = (action: DiskAction, code: DiskCode, reason: string, copy?: DiskCopy): DiskDecision => ({
    target: dev,
    action,
    code,
    reason,
    source,
    ...(copy ? { copy } : {}),
  });
  const refuse = (code: DiskCode, reason: string) => decision('refuse', code, reason);
  const devProblem = unsafeName(dev);
  if (devProblem) return refuse('refuse-unsafe-name', `the device name '${dev}' is unsafe: ${devProblem}`);
  const removable = disk.device === 'cdrom' || disk.device === 'floppy';
  if (disk.device === 'lun') return refuse('refuse-lun', 'a SCSI LUN passed through from the host');

  if (disk.type === 'network') {
    return decision(
      'reattach',
      'reattach-network',
      `network disk (${disk.source.protocol ?? 'unknown protocol'}), re-attached as it is`,
    );
  }
  if (removable && !disk.path && (disk.type === 'file' || disk.type === 'block')) {
    return decision('leave-out', 'empty-drive', `empty ${disk.device} drive, stays empty`);
  }
  if (disk.type === 'volume') return decideVolume(vmName, disk, options, facts, decision);
  if (disk.type !== 'file' && disk.type !== 'block') {
    return refuse('refuse-unsupported-type', `disk type ${disk.type} cannot be moved by rehome`);
  }
  if (!disk.path) return refuse('refuse-no-source', `${disk.type} disk without a source`);
  const path = normalizeAbsolute(disk.path);
  if (!path) return refuse('refuse-relative-path', `the path ${disk.path} is not absolute`);
  const prefix = options.sharedPrefixes?.find((candidate) => isUnderPrefix(path, candidate));
  if (prefix) {
    return decision(
      'reattach',
      'reattach-shared-path',
      `on shared storage (${prefix}), re-attached as it is`,
    );
  }
  if (disk.shareable) {
    return refuse(
      'refuse-shareable-local',
      `shareable disk ${path} is on local storage: other guests may write it, so no copy would stay right (put it under storage.sharedPrefixes if every host sees it)`,
    );
  }
  const vmProblem = unsafeName(vmName);
  if (vmProblem) return refuse('refuse-unsafe-name', `the VM name '${vmName}' is unsafe: ${vmProblem}`);

  if (removable) {
    if (options.removableMedia === 'eject') {
      return decision(
        'leave-out',
        'eject-removable-media',
        `${disk.device} media ${path} is ejected on the target (storage.removableMedia: eject)`,
      );
    }
    if (disk.type === 'block') {
      return refuse(
        'refuse-host-drive',
        `${disk.device} is the host drive ${path}; set storage.removableMedia: eject to move without it`,
      );
    }
    const format = disk.driverType ?? 'raw';
    return decision(
      'copy',
      'copy-removable-media',
      `${disk.device} media ${path} is copied once (read-only) into ${fileName(vmName, dev, 'raw')}; kept on the source`,
      fileCopy(vmName, dev, format, 'once', disk, true),
    );
  }

  const method = disk.readonly ? 'once' : 'mirror';
  if (disk.type === 'block') {
    const lv = logicalVolumeOf(path);
    if (options.blockDisksInto === 'file') {
      return decision(
        'copy',
        disk.readonly ? 'copy-readonly' : 'copy-block-to-file',
        `block device ${path} is copied into the raw file ${fileName(vmName, dev, 'raw')} (storage.blockDisksInto: file)${disk.readonly ? '; read-only: copied once, kept on the source' : ''}`,
        {
          method,
          into: { kind: 'file', fileName: fileName(vmName, dev, 'raw'), format: 'raw' },
          sourceFormat: 'raw',
          flattened: false,
          keepOnSource: disk.readonly,
        },
      );
    }
    if (!options.blockPool) {
      return refuse(
        'refuse-block-no-target',
        `block device ${path}: set storage.blockPool (a pool on the targets) or storage.blockDisksInto: file`,
      );
    }
    const poolProblem = unsafeName(options.blockPool);
    if (poolProblem) {
      return refuse('refuse-unsafe-name', `the pool name '${options.blockPool}' is unsafe: ${poolProblem}`);
    }
    const name = lv?.lv ?? `${vmName}-${dev}`;
    return decision(
      'copy',
      disk.readonly ? 'copy-readonly' : 'copy-block-to-volume',
      `block device ${path} is copied into a new volume ${name} of the same size in pool ${options.blockPool} on the target${disk.readonly ? '; read-only: copied once, kept on the source' : ''}`,
      {
        method,
        into: { kind: 'volume', pool: options.blockPool, name, format: 'raw', definition: 'block' },
        sourceFormat: disk.driverType ?? 'raw',
        flattened: false,
        keepOnSource: disk.readonly,
      },
    );
  }

  // A file.
  const format = disk.driverType ?? 'raw';
  const copy = fileCopy(vmName, dev, format, method, disk, disk.readonly);
  const into = copy.into as Extract<CopyInto, { kind: 'file' }>;
  if (disk.readonly) {
    return decision(
      'copy',
      'copy-readonly',
      `read-only ${format} file ${path} is copied once into ${into.fileName}${copy.flattened ? ' (its backing chain flattened)' : ''}; never removed from the source`,
      copy,
    );
  }
  if (format === 'raw') {
    return decision(
      'copy',
      'copy-raw-sparse',
      `raw file ${path} is copied sparse into ${into.fileName}`,
      copy,
    );
  }
  if (format === 'qcow2') {
    return copy.flattened
      ? decision(
          'copy',
          'copy-qcow2-chain-flattened',
          `qcow2 ${path} and its backing chain (${disk.backingFiles.join(' <- ')}) are copied flattened into one standalone ${into.fileName}; the backing files stay on the source`,
          copy,
        )
      : decision('copy', 'copy-qcow2', `qcow2 file ${path} is copied into ${into.fileName}`, copy);
  }
  return decision(
    'copy',
    'copy-converted-qcow2',
    `${format} file ${path} is copied into the qcow2 ${into.fileName}`,
    copy,
  );
}

type Decide = (action: DiskAction, code: DiskCode, reason: string, copy?: DiskCopy) => DiskDecision;

function decideVolume(
  vmName: string,
  disk: DiskInfo,
  options: DiskPolicyOptions,
  facts: DiskFactsForPolicy,
  decision: Decide,
): DiskDecision {
  const pool = disk.source.pool ?? '';
  const volume = disk.source.volume ?? '';
  const refuse = (code: DiskCode, reason: string) => decision('refuse', code, reason);
  if (options.sharedPools?.includes(pool)) {
    return decision(
      'reattach',
      'reattach-shared-pool',
      `volume ${volume} in shared pool ${pool}, re-attached`,
    );
  }
  for (const [what, name] of [
    ['pool', pool],
    ['volume', volume],
  ] as const) {
    const problem = unsafeName(name);
    if (problem) return refuse('refuse-unsafe-name', `the ${what} name '${name}' is unsafe: ${problem}`);
  }
  if (disk.shareable) {
    return refuse(
      'refuse-shareable-local',
      `shareable volume ${pool}/${volume} is in a pool not listed in storage.sharedPools: no copy would stay right`,
    );
  }
  const vmProblem = unsafeName(vmName);
  if (vmProblem) return refuse('refuse-unsafe-name', `the VM name '${vmName}' is unsafe: ${vmProblem}`);
  const resolved = facts.volume;
  if (!resolved) {
    return refuse(
      'refuse-volume-unresolved',
      `volume ${pool}/${volume} could not be looked up on the source (is pool ${pool} active?)`,
    );
  }
  if (!COPYABLE_POOL_TYPES.has(resolved.poolType)) {
    return refuse(
      'refuse-volume-pool-type',
      `volume ${pool}/${volume} is in a ${resolved.poolType} pool: rehome copies dir and logical pool volumes only (list the pool in storage.sharedPools if every host sees it)`,
    );
  }
  const format = resolved.format ?? disk.driverType ?? 'raw';
  const removable = disk.device === 'cdrom' || disk.device === 'floppy';
  const once = disk.readonly || removable;
  return decision(
    'copy',
    'copy-pool-volume',
    `volume ${volume} (${resolved.poolType} pool ${pool}) is copied into a new volume of the same name in pool ${pool} on the target; the definition keeps naming it${once ? '; read-only: copied once, kept on the source' : ''}`,
    {
      method: once ? 'once' : 'mirror',
      into: { kind: 'volume', pool, name: volume, format, definition: 'keep' },
      sourceFormat: disk.driverType ?? format,
      flattened: disk.backingFiles.length > 0,
      keepOnSource: once,
    },
  );
}

function fileName(vmName: string, dev: string, format: string): string {
  return `${vmName}-${dev}.${format === 'qcow2' ? 'qcow2' : 'raw'}`;
}

function fileCopy(
  vmName: string,
  dev: string,
  format: string,
  method: 'mirror' | 'once',
  disk: DiskInfo,
  keepOnSource: boolean,
): DiskCopy {
  const targetFormat = format === 'raw' ? 'raw' : 'qcow2';
  return {
    method,
    into: { kind: 'file', fileName: fileName(vmName, dev, targetFormat), format: targetFormat },
    sourceFormat: format,
    flattened: disk.backingFiles.length > 0,
    keepOnSource,
  };
}

function describeSource(disk: DiskInfo): string {
  if (disk.path) return normalizeAbsolute(disk.path) ?? disk.path;
  if (disk.type === 'network') {
    const host = disk.source.hosts[0];
    const where = host?.name ? `${host.name}${host.port ? `:${host.port}` : ''}` : (host?.socket ?? '');
    return `${disk.source.protocol ?? 'network'}://${where}${disk.source.name ? `/${disk.source.name}` : ''}`;
  }
  if (disk.type === 'volume') return `${disk.source.pool ?? ''}/${disk.source.volume ?? ''}`;
  return '';
}

/** The inventory's coarse class of a decision: copied (local), re-attached (network), left out (skip), refused. */
export function diskClassOf(action: DiskAction): 'local' | 'network' | 'skip' | 'unsupported' {
  return { copy: 'local', reattach: 'network', 'leave-out': 'skip', refuse: 'unsupported' }[action] as
    | 'local'
    | 'network'
    | 'skip'
    | 'unsupported';
}

/** Every disk of a domain; `facts` by target device. */
export function decideDisks(
  vmName: string,
  disks: readonly DiskInfo[],
  options: DiskPolicyOptions = {},
  facts: ReadonlyMap<string, DiskFactsForPolicy> = new Map(),
): DiskDecision[] {
  return disks.map((disk) => decideDisk(vmName, disk, options, facts.get(disk.targetDev)));
}

/** The refusals of a domain as one sentence per disk, for an error message. */
export function refusalText(decisions: readonly DiskDecision[]): string {
  return decisions
    .filter((d) => d.action === 'refuse')
    .map((d) => `${d.target}: ${d.reason} [${d.code}]`)
    .join('; ');
}

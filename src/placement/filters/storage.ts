import type { Filter, VmFacts } from '../types.js';
import { listSome, ok, skip } from './verdict.js';

const NAME = 'storage';

/**
 * A disk copied into a new volume (a pool volume, a block device) needs its pool on the target, active, and its name
 * free there: a name already taken is a blocker, never an overwrite. Hosts whose pools were not read pass with a
 * note; the move checks again before it creates anything.
 */
export const storageFilter: Filter = (vm, host) => {
  const volumes = volumesOf(vm);
  if (volumes.length === 0) return ok(NAME, 'no volume to create');
  if (!host.storagePools) return ok(NAME, 'storage pools not read; checked again when the move starts');
  const problems: string[] = [];
  for (const { pool, name } of volumes) {
    const taken = host.storagePools[pool];
    if (!taken) problems.push(`no active pool ${pool}`);
    else if (taken.includes(name)) problems.push(`volume ${name} already exists in pool ${pool}`);
  }
  if (problems.length > 0) return skip(NAME, `${listSome(problems)} (a name taken is never overwritten)`);
  return ok(NAME, `room for ${listSome(volumes.map((v) => `${v.pool}/${v.name}`))}`);
};

function volumesOf(vm: VmFacts): { pool: string; name: string }[] {
  return vm.disks.flatMap((disk) => (disk.kind === 'local' && disk.intoVolume ? [disk.intoVolume] : []));
}

/** The fast engine's cache key: the volumes the VM needs. */
export function storageClassKey(vm: VmFacts): string {
  return volumesOf(vm)
    .map((v) => `${v.pool}/${v.name}`)
    .sort()
    .join('\u0000');
}

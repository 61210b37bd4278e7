import { diskFits, diskNeedBytes } from '../capacity.js';
import type { Filter } from '../types.js';
import { formatBytes } from '../units.js';
import { ok, skip } from './verdict.js';

const NAME = 'disk';

/** Virtual size of the local disks + headroom ≤ free space in the image directory − what this plan already claims. */
export const diskFilter: Filter = (vm, _host, { load }) => {
  const need = diskNeedBytes(vm);
  if (need === 0) return ok(NAME, 'no local disks to copy');
  const { diskClaimedBytes: claimed, diskHeadroomBytes: headroom, diskFreeBytes: free } = load;
  const room = `${formatBytes(free)} free, ${formatBytes(claimed)} claimed by this plan, ${formatBytes(headroom)} headroom`;
  if (diskFits(claimed, need, headroom, free)) return ok(NAME, `needs ${formatBytes(need)}; ${room}`);
  return skip(NAME, `needs ${formatBytes(need)}, more than is left: ${room}`);
};

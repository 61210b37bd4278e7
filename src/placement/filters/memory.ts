import { fitsUnder } from '../capacity.js';
import type { Filter } from '../types.js';
import { formatCount, formatKiB } from '../units.js';
import { ok, skip } from './verdict.js';

const NAME = 'memory';

/** committed + VM ≤ (total − reserved) × overcommit. Committed includes guests already there and this plan's claims. */
export const memoryFilter: Filter = (vm, host, { load }) => {
  const { memoryCommittedKiB: committed, memoryCapacityKiB: capacity } = load;
  const policy = `(${formatKiB(host.memoryKiB)} − ${formatKiB(host.policy.reservedMemoryKiB)} reserved) × ${formatCount(host.policy.memoryOvercommit)}`;
  if (fitsUnder(committed, vm.memoryKiB, capacity)) {
    return ok(
      NAME,
      `${formatKiB(committed + vm.memoryKiB)} of ${formatKiB(capacity)} after placement, ${policy}`,
    );
  }
  return skip(
    NAME,
    `needs ${formatKiB(vm.memoryKiB)}, ${formatKiB(Math.max(0, capacity - committed))} free of ${formatKiB(capacity)}, ${policy}`,
  );
};

import { fitsUnder } from '../capacity.js';
import type { Filter } from '../types.js';
import { formatCount } from '../units.js';
import { ok, skip } from './verdict.js';

const NAME = 'vcpus';

/** committed vCPUs + VM ≤ logical CPUs × overcommit. */
export const vcpusFilter: Filter = (vm, host, { load }) => {
  const { vcpusCommitted: committed, vcpuCapacity: capacity } = load;
  const policy = `${host.cores} CPUs × ${formatCount(host.policy.cpuOvercommit)}`;
  if (fitsUnder(committed, vm.vcpus, capacity)) {
    return ok(NAME, `${committed + vm.vcpus} of ${formatCount(capacity)} vCPUs after placement, ${policy}`);
  }
  return skip(
    NAME,
    `needs ${vm.vcpus} vCPUs, ${formatCount(Math.max(0, capacity - committed))} free of ${formatCount(capacity)}, ${policy}`,
  );
};

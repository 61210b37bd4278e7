import type { Filter, HostFacts } from '../types.js';
import { error, ok, skip } from './verdict.js';

export const notSourceFilter: Filter = (vm, host) =>
  host.name === vm.host
    ? skip('not-source', 'this is the host the VM runs on')
    : ok('not-source', `not the VM's current host (${vm.host})`);

export const hostStateFilter: Filter = (_vm, host) => {
  const bad = invalidFacts(host);
  if (bad.length > 0) return error('host-state', `host facts are incomplete or invalid: ${bad.join(', ')}`);
  if (host.state !== 'active') return skip('host-state', `host is ${host.state}`);
  return ok('host-state', 'host is active');
};

function invalidFacts(host: HostFacts): string[] {
  const numbers: Array<[string, number | undefined]> = [
    ['cores', host.cores],
    ['memoryKiB', host.memoryKiB],
    ['imageDirFreeBytes', host.imageDirFreeBytes],
    ['policy.reservedMemoryKiB', host.policy.reservedMemoryKiB],
    ['policy.memoryOvercommit', host.policy.memoryOvercommit],
    ['policy.cpuOvercommit', host.policy.cpuOvercommit],
    ['policy.diskHeadroomBytes', host.policy.diskHeadroomBytes ?? 0],
    ['policy.diskHeadroomRatio', host.policy.diskHeadroomRatio ?? 0],
  ];
  const bad = numbers.filter(
    ([, value]) => !(typeof value === 'number' && Number.isFinite(value) && value >= 0),
  );
  const guestsBad = host.guests.some((g) => !(Number.isFinite(g.memoryKiB) && Number.isFinite(g.vcpus)));
  return [...bad.map(([name, value]) => `${name}=${value}`), ...(guestsBad ? ['guest sizes'] : [])];
}

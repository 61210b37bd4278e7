import type { Filter } from '../types.js';
import { ok, skip } from './verdict.js';

const NAME = 'networks';

/** Every NIC needs its bridge or libvirt network on the target; user-mode NICs need nothing from the host. */
export const networksFilter: Filter = (vm, host) => {
  if (vm.nics.length === 0) return ok(NAME, 'no NICs');
  const missing: string[] = [];
  const found: string[] = [];
  for (const nic of vm.nics) {
    if (nic.type === 'bridge') {
      (host.bridges.includes(nic.source) ? found : missing).push(`bridge ${nic.source}`);
    } else if (nic.type === 'network') {
      (host.networks.includes(nic.source) ? found : missing).push(`network ${nic.source}`);
    } else if (nic.type === 'user') {
      found.push('user-mode NIC');
    } else {
      missing.push(`${nic.type} NIC ${nic.mac} (unsupported type)`);
    }
  }
  if (missing.length > 0) return skip(NAME, `missing ${unique(missing).join(', ')}`);
  return ok(NAME, `has ${unique(found).join(', ')}`);
};

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

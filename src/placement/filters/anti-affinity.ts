import type { Filter, HostLoad, VmFacts } from '../types.js';
import { ok, skip } from './verdict.js';

const NAME = 'anti-affinity';

/** The first of the VM's groups already held on the host by another guest or planned VM, with its holder. */
export function affinityConflict(vm: VmFacts, groups: HostLoad['groups']): [string, string] | undefined {
  for (const group of vm.antiAffinity ?? []) {
    const holder = groups.get(group);
    if (holder !== undefined && holder !== vm.name) return [group, holder];
  }
  return undefined;
}

export const antiAffinityFilter: Filter = (vm, _host, { load }) => {
  const groups = vm.antiAffinity ?? [];
  if (groups.length === 0) return ok(NAME, 'no anti-affinity groups');
  const conflict = affinityConflict(vm, load.groups);
  if (conflict) return skip(NAME, `group ${conflict[0]} is already here (${conflict[1]})`);
  return ok(NAME, `no other member of ${groups.join(', ')} here`);
};

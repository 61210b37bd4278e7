import type { Filter, VmFacts } from '../types.js';
import { ok, skip } from './verdict.js';

const NAME = 'firmware';

/**
 * The target must be able to start the guest's firmware: its machine type is offered by the target's QEMU, its loader
 * file exists there, and swtpm is installed when it has an emulated TPM. A fact the inventory could not read counts as
 * missing: nothing is placed where it might not boot.
 */
export const firmwareFilter: Filter = (vm, host) => {
  const needs = vm.firmware;
  if (!needs) return ok(NAME, 'no firmware facts to check');
  const offered = host.firmware;
  const missing: string[] = [];
  const found: string[] = [];
  if (needs.machine) {
    const arch = needs.arch ?? 'x86_64';
    const machines = offered?.machineTypes?.[arch];
    if (!machines) missing.push(`machine types for ${arch} unknown`);
    else if (!machines.includes(needs.machine))
      missing.push(`machine type ${needs.machine} not offered (${arch})`);
    else found.push(`machine ${needs.machine}`);
  }
  if (needs.loader) {
    const exists = offered?.files?.[needs.loader];
    if (exists === undefined) missing.push(`loader ${needs.loader} not checked`);
    else if (!exists) missing.push(`loader ${needs.loader} missing`);
    else found.push(`loader ${needs.loader}`);
  }
  if (needs.tpm) {
    if (offered?.swtpm === undefined) missing.push('swtpm not checked (the guest has a vTPM)');
    else if (!offered.swtpm) missing.push('swtpm not installed (the guest has a vTPM)');
    else found.push('swtpm');
  }
  if (missing.length > 0) return skip(NAME, missing.join(', '));
  return ok(NAME, found.length > 0 ? `has ${found.join(', ')}` : 'nothing to check');
};

/** The fast engine's cache key: the filter reads only these of the VM. */
export function firmwareClassKey(vm: VmFacts): string {
  const f = vm.firmware;
  if (!f) return '';
  return `${f.arch ?? ''}|${f.machine ?? ''}|${f.loader ?? ''}|${f.tpm ? 'tpm' : ''}`;
}

import { guestCpuKey, hostCpuSignature } from '../cpu-key.js';
import type { Filter, HostCpu, Verdict } from '../types.js';
import { listSome, ok, skip, warning } from './verdict.js';

const NAME = 'cpu';

/**
 * The guest restarts on the target (the move happens at its reboot), so the question is whether its CPU definition
 * can start there and what the guest will see:
 * - host-passthrough shows the host's CPU as it is: only an identical vendor, model and flag set is accepted;
 * - host-model is rebuilt from the target at start, so it always starts: a different model or flag set is a warning
 *   (the guest sees a new CPU after its reboot), and hosts without warnings are preferred;
 * - custom uses the caller's compare-hypervisor-CPU verdict for this definition on this host.
 */
export const cpuFilter: Filter = (vm, host, ctx) => {
  const mode = vm.cpu.mode;
  if (mode === 'host-passthrough') {
    if (!ctx.source) return skip(NAME, `host-passthrough: the CPU of source host ${vm.host} is unknown`);
    return passthrough(ctx.source.cpu, host.cpu);
  }
  if (mode === 'host-model') {
    if (!ctx.source)
      return warning(NAME, `host-model: source CPU unknown; the guest will see ${describe(host.cpu)}`);
    return hostModel(ctx.source.cpu, host.cpu);
  }
  if (mode === 'custom') {
    const name = vm.cpu.model ?? '(no model)';
    const verdict = host.cpuCompare?.[guestCpuKey(vm.cpu)];
    if (verdict === 'identical' || verdict === 'superset')
      return ok(NAME, `custom ${name}: host CPU is ${verdict}`);
    if (verdict === 'incompatible') return skip(NAME, `custom ${name}: host CPU is incompatible`);
    if (verdict === 'unknown') return skip(NAME, `custom ${name}: compare-hypervisor-CPU could not decide`);
    return skip(NAME, `custom ${name}: not compared with this host's CPU`);
  }
  return skip(NAME, `CPU mode ${mode} is not supported by placement`);
};

function passthrough(source: HostCpu, target: HostCpu): Verdict {
  if (hostCpuSignature(source) === hostCpuSignature(target)) return identical('host-passthrough', target);
  if (source.vendor !== target.vendor || source.model !== target.model) {
    return skip(NAME, `host-passthrough needs ${describe(source)}, host has ${describe(target)}`);
  }
  const { missing, extra } = flagDifference(source, target);
  if (missing.length > 0 || extra.length > 0) {
    return skip(NAME, `host-passthrough needs identical flags: ${flagText(missing, extra)}`);
  }
  return identical('host-passthrough', target);
}

function hostModel(source: HostCpu, target: HostCpu): Verdict {
  if (hostCpuSignature(source) === hostCpuSignature(target)) return identical('host-model', target);
  if (source.vendor !== target.vendor || source.model !== target.model) {
    return warning(
      NAME,
      `host-model: the guest's CPU changes from ${describe(source)} to ${describe(target)}`,
    );
  }
  const { missing, extra } = flagDifference(source, target);
  if (missing.length > 0 || extra.length > 0) {
    return warning(NAME, `host-model: same model, the guest's flags change: ${flagText(missing, extra)}`);
  }
  return identical('host-model', target);
}

function identical(mode: string, target: HostCpu): Verdict {
  return ok(NAME, `${mode}: identical CPU (${describe(target)}, ${target.features.length} flags)`);
}

function describe(cpu: HostCpu): string {
  return `${cpu.vendor} ${cpu.model}`;
}

function flagDifference(source: HostCpu, target: HostCpu): { missing: string[]; extra: string[] } {
  const have = new Set(target.features);
  const want = new Set(source.features);
  return {
    missing: [...want].filter((f) => !have.has(f)).sort(),
    extra: [...have].filter((f) => !want.has(f)).sort(),
  };
}

function flagText(missing: string[], extra: string[]): string {
  const parts = [];
  if (missing.length > 0) parts.push(`missing ${listSome(missing)}`);
  if (extra.length > 0) parts.push(`extra ${listSome(extra)}`);
  return parts.join('; ');
}

import { diskNeedBytes } from './capacity.js';
import type { Choice } from './choice.js';
import { FILTERS } from './filters/index.js';
import { passes } from './filters/verdict.js';
import type { FleetState } from './fleet-state.js';
import { beats, scoreAt } from './score.js';
import type { CandidateExplain, HostFacts, LabelRule, Strategy, VmFacts } from './types.js';

export interface ReferenceResult {
  choice: Choice | undefined;
  /** Hosts each filter took out of the running (a host may count under several filters). */
  skippedBy: Map<string, number>;
  candidates?: CandidateExplain[];
}

/**
 * Every filter for every host, the plain way. It backs --explain, says why no host fits, and is the yardstick the
 * fast engine is tested and benchmarked against.
 */
export function evaluateEveryHost(
  vm: VmFacts,
  source: HostFacts | undefined,
  state: FleetState,
  strategy: Strategy,
  labelRules: readonly LabelRule[],
  explain: boolean,
): ReferenceResult {
  const need = diskNeedBytes(vm);
  const skippedBy = new Map<string, number>();
  const candidates: CandidateExplain[] | undefined = explain ? [] : undefined;
  let best: (Choice & { warned: boolean }) | undefined;
  for (let i = 0; i < state.hosts.length; i++) {
    const host = state.hosts[i] as HostFacts;
    const ctx = { source, load: state.loadOf(i), labelRules };
    const verdicts = FILTERS.map((filter) => filter(vm, host, ctx));
    const failed = verdicts.filter((v) => !passes(v));
    for (const v of failed) skippedBy.set(v.filter, (skippedBy.get(v.filter) ?? 0) + 1);
    const eligible = failed.length === 0;
    const score = eligible ? scoreAt(state, i, vm.memoryKiB, vm.vcpus, need) : undefined;
    if (score) {
      const warnings = verdicts.filter((v) => v.status === 'warning').map((v) => v.reason);
      const warned = warnings.length > 0;
      // Hosts without warnings come first; among equals, the score decides.
      if (
        !best ||
        (best.warned && !warned) ||
        (best.warned === warned && beats(score, best.score, strategy))
      ) {
        best = { index: i, score, warnings, warned };
      }
    }
    candidates?.push({ host: host.name, verdicts, eligible, ...(score ? { score } : {}), chosen: false });
  }
  if (best && candidates) (candidates[best.index] as CandidateExplain).chosen = true;
  const choice = best && { index: best.index, score: best.score, warnings: best.warnings };
  return { choice, skippedBy, ...(candidates ? { candidates } : {}) };
}

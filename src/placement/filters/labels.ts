import type { Filter, FilterContext, VmFacts } from '../types.js';
import { ok, skip } from './verdict.js';

const NAME = 'labels';

/** A label the target must carry; value undefined means the target must not have the label (the source has none). */
export interface LabelRequirement {
  key: string;
  value: string | undefined;
  why: 'config' | 'same as source' | 'VM metadata';
}

/**
 * Required labels from the config rules and from the VM's metadata. Returns a string instead when a rule cannot be
 * resolved (a same-as-source rule while the source is unknown).
 */
export function labelRequirements(
  vm: VmFacts,
  source: FilterContext['source'],
  rules: FilterContext['labelRules'],
): LabelRequirement[] | string {
  const requirements: LabelRequirement[] = [];
  for (const rule of rules) {
    if ('equals' in rule) {
      requirements.push({ key: rule.key, value: rule.equals, why: 'config' });
    } else {
      if (!source) return `source host ${vm.host} is unknown, so label ${rule.key} cannot be matched`;
      requirements.push({ key: rule.key, value: source.labels[rule.key], why: 'same as source' });
    }
  }
  for (const [key, value] of Object.entries(vm.requiredLabels ?? {})) {
    requirements.push({ key, value, why: 'VM metadata' });
  }
  return requirements;
}

export const labelsFilter: Filter = (vm, host, ctx) => {
  const requirements = labelRequirements(vm, ctx.source, ctx.labelRules);
  if (typeof requirements === 'string') return skip(NAME, requirements);
  if (requirements.length === 0) return ok(NAME, 'no required labels');
  const wrong: string[] = [];
  const right: string[] = [];
  for (const { key, value, why } of requirements) {
    const actual = host.labels[key];
    if (actual === value) {
      right.push(value === undefined ? `no ${key}` : `${key}=${value}`);
    } else {
      const has = actual === undefined ? `no ${key}` : `${key}=${actual}`;
      const needs = value === undefined ? `no ${key}` : `${key}=${value}`;
      wrong.push(`has ${has}, needs ${needs} (${why})`);
    }
  }
  if (wrong.length > 0) return skip(NAME, wrong.join('; '));
  return ok(NAME, right.join(', '));
};

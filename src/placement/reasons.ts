import type { Score, Strategy } from './types.js';
import { formatPercent } from './units.js';

export function placedReason(target: string, score: Score, strategy: Strategy): string {
  const which = strategy === 'spread' ? 'most' : 'least';
  const left = `memory ${formatPercent(score.memory)}, vCPU ${formatPercent(score.vcpu)}, disk ${formatPercent(score.disk)}`;
  return `${target}: passes every filter and leaves the ${which} free after placement (${strategy}): ${left}`;
}

export function noTargetReason(hostCount: number, skippedBy: ReadonlyMap<string, number>): string {
  if (hostCount === 0) return 'no target: there are no hosts to consider';
  const counts = [...skippedBy]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([filter, n]) => `${filter} on ${n}`)
    .join(', ');
  return `no target among ${hostCount} host${hostCount === 1 ? '' : 's'}: skipped by ${counts}`;
}

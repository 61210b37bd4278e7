import type { Decision, PlanTotals } from './types.js';

/** Bytes the placed VMs' mirrors copy, and how long that takes over the given link. */
export function planTotals(decisions: readonly Decision[], linkBytesPerSecond?: number): PlanTotals {
  let placed = 0;
  let bytesToCopy = 0;
  for (const decision of decisions) {
    if (decision.status !== 'placed') continue;
    placed++;
    bytesToCopy += decision.bytesToCopy;
  }
  const totals: PlanTotals = {
    vms: decisions.length,
    placed,
    blocked: decisions.length - placed,
    bytesToCopy,
  };
  if (linkBytesPerSecond !== undefined && linkBytesPerSecond > 0) {
    totals.etaSeconds = Math.ceil(bytesToCopy / linkBytesPerSecond);
  }
  return totals;
}

import type { CordonResult } from '../../drain/cordon.js';

export function formatCordon(change: CordonResult): string {
  return change.changed ? `${change.host} cordoned` : `${change.host} is already ${change.after} (no change)`;
}

export function formatUncordon(change: CordonResult): string {
  return change.changed
    ? `${change.host} uncordoned (was ${change.before})`
    : `${change.host} is not cordoned (no change)`;
}

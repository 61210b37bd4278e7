import type { Verdict } from '../types.js';

export const ok = (filter: string, reason: string): Verdict => ({ status: 'ok', filter, reason });
export const skip = (filter: string, reason: string): Verdict => ({ status: 'skip', filter, reason });
export const warning = (filter: string, reason: string): Verdict => ({ status: 'warning', filter, reason });
export const error = (filter: string, reason: string): Verdict => ({ status: 'error', filter, reason });

/** ok and warning keep a host in the running; skip and error take it out. */
export function passes(verdict: Verdict): boolean {
  return verdict.status === 'ok' || verdict.status === 'warning';
}

/** "a, b, c and 4 more": reasons stay readable when a list is long. */
export function listSome(items: readonly string[], max = 5): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

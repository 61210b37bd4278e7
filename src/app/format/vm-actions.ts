/** One-line reports of the commands that act on one armed VM, and of a reconcile pass. */
import type { RebootNowResult, ReconcileEntry, RescheduleResult } from '../../migration/index.js';

export function formatCancel(result: { vm: string; phase: string; source: string }): string {
  return `${result.vm}: ${result.phase}; it stays on ${result.source}.`;
}

export function formatReboot(result: RebootNowResult): string {
  const host = result.outcome === 'done' ? result.target : result.source;
  const error = result.lastError ? ` ${result.lastError}` : '';
  return `${result.vm}: ${result.outcome} (pause ${result.pauseLatencyMs} ms); it runs on ${host}.${error}`;
}

export function formatReschedule(result: RescheduleResult): string {
  return `${result.vm}: deadline ${result.previousDeadline ?? 'none'} → ${result.deadline} (limit ${result.latest}).`;
}

export function formatReconcile(entries: readonly ReconcileEntry[]): string {
  if (entries.length === 0) return 'Nothing to reconcile.';
  return entries
    .map((e) => `${e.vm}: ${e.phaseBefore} → ${e.phaseAfter} (${e.action}: ${e.reason})`)
    .join('\n');
}

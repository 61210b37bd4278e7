import type { MigrateResult, ProgressEvent, StatusResult } from '../../migration/index.js';
import { formatBytes } from '../../placement/units.js';

/** One progress line for stderr: ISO time, VM, step, what happened. */
export function formatProgress(event: ProgressEvent, now = new Date()): string {
  return `${now.toISOString()} ${formatStep(event)}`;
}

/** VM, step, what happened: `web1 mirror: done 64 MiB`. */
export function formatStep(event: ProgressEvent): string {
  const what = event.status === 'info' ? '' : `${event.status} `;
  return `${event.vm} ${event.step}: ${what}${event.message ?? ''}`.trimEnd();
}

export function formatStatus(result: StatusResult): string {
  if (result.migrations.length === 0) return 'No migrations.';
  const lines: string[] = [];
  for (const m of result.migrations) {
    lines.push(`${m.vm} (${m.uuid}) ${m.source} → ${m.target}: ${m.phase}`);
    if (m.progress)
      lines.push(
        `  sync: ${formatBytes(m.progress.cur)} / ${formatBytes(m.progress.end)} (${m.progress.percent}%) at ${m.progress.at}`,
      );
    if (m.deadline) lines.push(`  deadline: ${m.deadline}`);
    if (m.pauseLatenciesMs.length > 0) lines.push(`  pause latencies: ${m.pauseLatenciesMs.join(', ')} ms`);
    if (Object.keys(m.timeline).length > 0) {
      lines.push(
        `  timeline: ${Object.entries(m.timeline)
          .map(([k, v]) => `${k} +${v} ms`)
          .join(', ')}`,
      );
    }
    if (m.retained)
      lines.push(
        `  source disks kept on ${m.retained.host} until ${m.retained.until}${m.retained.removedAt ? ` (removed ${m.retained.removedAt})` : ''}`,
      );
    if (m.lock) lines.push(`  locked by pid ${m.lock.pid} on ${m.lock.host} (${m.lock.purpose})`);
    if (m.lastError) lines.push(`  last error: ${m.lastError}`);
    for (const entry of m.history ?? []) {
      lines.push(`  ${entry.at} ${entry.step} ${entry.outcome} ${JSON.stringify(entry.detail)}`);
    }
  }
  return lines.join('\n');
}

/** `rehome migrate` for people: where it goes and why, and when it moves at the latest. */
export function formatMigrateResult(result: MigrateResult): string {
  const lines = [
    `${result.vm} is armed: it moves from ${result.source} to ${result.target} at its next reboot, or at ${result.deadline} at the latest.`,
  ];
  if (result.targetChoice.by === 'placement')
    lines.push(`Target chosen by placement: ${result.targetChoice.reason}`);
  for (const warning of result.targetChoice.warnings) lines.push(`Warning: ${warning}`);
  if (result.deadlineSource === 'operator-limit')
    lines.push('No --deadline was given: the deadline is the operator’s limit (notify.maxDeadlineDays).');
  return lines.join('\n');
}

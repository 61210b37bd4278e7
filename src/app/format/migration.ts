import { type RetainedSet, retainedOf } from '../../disks/retention.js';
import {
  describeCopyProgress,
  type MigrateResult,
  type ProgressEvent,
  type StatusResult,
} from '../../migration/index.js';

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
        `  sync: ${describeCopyProgress(m.progress.cur, m.progress.end, { bytesPerSec: m.progress.bytesPerSec ?? null, etaSeconds: m.progress.etaSeconds ?? null })} at ${m.progress.at}`,
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
    if (m.retained) lines.push(...retainedLines(m.retained));
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

/** What retention keeps on the source and until when; after its pass, what it removed and what it kept, and why. */
function retainedLines(retained: RetainedSet): string[] {
  const lines = [
    `  source disks kept on ${retained.host} until ${retained.until}${retained.removedAt ? ` (retention ran ${retained.removedAt})` : ''}`,
  ];
  if (retained.outcome) {
    for (const o of retained.outcome) lines.push(`    ${o.path}: ${o.action}, ${o.reason}`);
  } else {
    for (const disk of retainedOf(retained)) {
      lines.push(
        `    ${disk.path}${disk.keep ? `: never removed (${disk.keep})` : `: removed after ${retained.until} if unused`}`,
      );
    }
  }
  return lines;
}

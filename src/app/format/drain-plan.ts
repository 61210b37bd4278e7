import type { DrainPlanEntry, DrainPlanReport } from '../../drain/types.js';
import { formatBytes, formatDuration, formatKiB } from '../../placement/units.js';
import { table } from './table.js';

const SPEED_SOURCE = {
  flag: 'from --link-speed',
  config: 'from placement.linkSpeedMiBps in the config',
  'measured-in-design': 'measured for a block copy over TLS',
  bandwidth: '20/21 of the --bandwidth of each mirror, which counts only the bytes sent',
} as const;

/** `rehome plan drain` for people: a line per VM, its reason or blockers, totals, and with explain every candidate. */
export function formatDrainPlan(report: DrainPlanReport, options: { explain?: boolean } = {}): string {
  const rows = [['VM', 'MEMORY', 'VCPUS', 'TO COPY', 'ETA', 'TARGET']];
  for (const d of report.decisions) {
    rows.push([
      d.vm,
      formatKiB(d.memoryKiB),
      String(d.vcpus),
      formatBytes(d.bytesToCopy),
      formatDuration(d.etaSeconds),
      d.status === 'placed' ? d.target : 'BLOCKED',
    ]);
  }
  const sections = [`Plan to drain ${report.host} (${report.strategy}):`, table(rows)];
  const why = report.decisions.map((d) => whyLines(d, options.explain === true)).join('\n');
  if (why) sections.push(why);
  const { totals } = report;
  sections.push(
    [
      `${totals.placed} of ${totals.vms} VM${totals.vms === 1 ? '' : 's'} have a target, ${totals.blocked} blocked.`,
      `To copy: ${formatBytes(totals.bytesToCopy)}, about ${formatDuration(totals.etaSeconds ?? 0)} at ${Number(report.linkSpeed.mibPerSec.toFixed(2))} MiB/s (${SPEED_SOURCE[report.linkSpeed.source]}).`,
      ...(report.hostStates.length > 0
        ? [`Not targets: ${report.hostStates.map((s) => `${s.host} (${s.state})`).join(', ')}.`]
        : []),
      ...(report.unreachable.length > 0
        ? [`Unreachable, not considered: ${report.unreachable.join(', ')}.`]
        : []),
      'Nothing has been changed and no one has been told.',
    ].join('\n'),
  );
  return sections.join('\n\n');
}

function whyLines(d: DrainPlanEntry, explain: boolean): string {
  const lines =
    d.status === 'placed'
      ? [`${d.vm} → ${d.reason}`, ...d.warnings.map((w) => `  warning: ${w}`)]
      : [`${d.vm} is blocked:`, ...d.blockers.map((b) => `  ${b.kind}: ${b.reason}`)];
  if (explain && d.disks) {
    for (const disk of d.disks)
      lines.push(`  disk ${disk.target}: ${disk.action}: ${disk.reason} [${disk.code}]`);
  }
  if (explain && d.explain) {
    for (const candidate of d.explain) {
      const mark = candidate.chosen ? 'taken' : candidate.eligible ? 'eligible, not best' : 'skipped';
      lines.push(`  ${candidate.host}: ${mark}`);
      for (const verdict of candidate.verdicts) {
        if (verdict.status === 'ok' && !candidate.chosen) continue;
        lines.push(`    ${verdict.status.padEnd(7)} ${verdict.filter}: ${verdict.reason}`);
      }
    }
  }
  return lines.join('\n');
}

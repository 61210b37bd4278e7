import type { CheckStatus, DoctorReport } from '../../doctor/types.js';
import { table } from './table.js';

const MARK: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: '-' };

/** One table per host (check, status, what was found), then each failure and warning with its fix. */
export function formatDoctor(report: DoctorReport): string {
  const sections = report.hosts.map((host) => {
    const rows = [
      ['CHECK', 'STATUS', 'DETAIL'],
      ...host.checks.map((check) => [check.check, MARK[check.status], check.detail]),
    ];
    return `${host.host}: ${host.ok ? 'ready' : 'NOT READY'}\n${table(rows)}`;
  });
  const fixes = report.hosts.flatMap((host) =>
    host.checks
      .filter((check) => check.fix && (check.status === 'fail' || check.status === 'warn'))
      .map((check) => `  ${host.host} ${check.check}: ${check.fix}`),
  );
  const failed = report.hosts.filter((host) => !host.ok).map((host) => host.host);
  const summary = report.ok
    ? `All ${report.hosts.length} hosts passed.`
    : `${failed.length} of ${report.hosts.length} hosts failed a check: ${failed.join(', ')}.`;
  return [...sections, ...(fixes.length > 0 ? [`To fix:\n${fixes.join('\n')}`] : []), summary].join('\n\n');
}

import type { HostOverview } from '../../drain/host-overview.js';
import type { HostsAddResult, HostsRemoveResult } from '../hosts.js';
import { table } from './table.js';

/** Plain aligned columns for `rehome hosts list` (no colour, so it pipes and diffs well). */
export function formatHostsTable(hosts: readonly HostOverview[]): string {
  if (hosts.length === 0)
    return 'No hosts configured. Add one with: rehome hosts add NAME --address DESTINATION';
  const rows = [
    ['NAME', 'ADDRESS', 'STATE', 'REASON', 'VMS OUT', 'VMS IN', 'IMAGE DIR', 'LABELS'],
    ...hosts.map((host) => [
      host.name,
      host.address,
      host.state,
      host.reason ?? '-',
      String(host.outgoing),
      String(host.incoming),
      host.imageDir,
      Object.entries(host.labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(','),
    ]),
  ];
  return table(rows);
}

export function formatHostAdded(result: HostsAddResult): string {
  return `Added host ${result.added.name} (${result.added.address}) to ${result.configPath}`;
}

export function formatHostRemoved(result: HostsRemoveResult): string {
  return `Removed host ${result.removed.name} from ${result.configPath}`;
}

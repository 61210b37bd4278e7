import type { DrainStatus } from '../../drain/status.js';
import { table } from './table.js';

/** `rehome status --host HOST` for people: the host's state, its latest drain per VM, and whether it is empty. */
export function formatDrainStatus(status: DrainStatus): string {
  if (!status.drain) return `${status.host} is ${status.hostState} and has never been drained.`;
  const rows = [['VM', 'TARGET', 'DRAIN', 'PHASE', 'DETAIL']];
  for (const vm of status.vms)
    rows.push([vm.vm, vm.target ?? '-', vm.outcome, vm.phase ?? '-', vm.waiting ?? vm.detail ?? '']);
  const { drain } = status;
  return [
    `${status.host} is ${status.hostState}; drain started ${drain.startedAt}, ${drain.status}${drain.deadline ? `, deadline ${drain.deadline}` : ''}.`,
    '',
    table(rows),
    '',
    `${status.moved} moved, ${status.remaining} remaining.`,
    status.empty
      ? `${status.host} is empty of the drained VMs: \`rehome hosts uncordon ${status.host}\` opens it again.`
      : `${status.host} is not empty yet.`,
  ].join('\n');
}

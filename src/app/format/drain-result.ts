import type { DrainResult } from '../../drain/types.js';
import { table } from './table.js';

export function formatDrainResult(result: DrainResult): string {
  const { drain } = result;
  const rows = [['VM', 'TARGET', 'OUTCOME', 'DETAIL']];
  for (const vm of drain.vms) rows.push([vm.vmName, vm.targetHost ?? '-', vm.outcome, vm.detail ?? '']);
  const armed = drain.vms.filter((vm) => vm.outcome === 'armed').length;
  const lines = [
    table(rows),
    '',
    `${armed} of ${drain.vms.length} VMs armed on their targets; each moves at its next reboot${drain.deadline ? ` or at ${drain.deadline}` : ''}.`,
    `${drain.host} stays draining. Follow it with: rehome status`,
  ];
  return lines.join('\n');
}

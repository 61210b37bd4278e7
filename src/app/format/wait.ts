import type { WaitMovedResult } from '../../migration/index.js';
import { table } from './table.js';

/** After `--wait`: each VM's phase, then whether all moved, or what is still armed when the timeout came. */
export function formatWaitResult(wait: WaitMovedResult): string {
  const rows = [['VM', 'PHASE', 'ERROR'], ...wait.migrations.map((m) => [m.vm, m.phase, m.lastError ?? ''])];
  const seconds = Math.round(wait.waitedMs / 1000);
  const verdict = !wait.settled
    ? `Stopped waiting after ${seconds} s: nothing was undone; the VMs not moved yet stay armed (rehome status).`
    : wait.allMoved
      ? `All ${wait.migrations.length} moved, after ${seconds} s.`
      : `Waited ${seconds} s: some did not move (rehome status VM shows why).`;
  return `${table(rows)}\n${verdict}`;
}

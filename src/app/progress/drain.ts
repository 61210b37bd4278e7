/**
 * The drain's view on stderr: a line per VM with its target, phase and sync progress. The drain itself reports
 * through callbacks and never prints.
 */

import type { DrainCallbacks, DrainVmEvent } from '../../drain/types.js';
import { ProgressLines, type ProgressMode } from './lines.js';

export async function withDrainProgress<T>(
  mode: ProgressMode,
  work: (callbacks: DrainCallbacks) => Promise<T>,
): Promise<T> {
  if (mode === 'silent') return work({});
  let lines: ProgressLines | undefined;
  const onStart: DrainCallbacks['onStart'] = (vms) => {
    lines = new ProgressLines(
      mode,
      vms.map(({ vm, target }) => ({ key: vm, title: title({ vm, target, outcome: 'pending' }) })),
    );
  };
  const onVm = (event: DrainVmEvent) => {
    if (!lines) return;
    if (event.outcome === 'armed') lines.succeed(event.vm, title(event));
    else if (event.outcome === 'failed' || event.outcome === 'blocked') lines.fail(event.vm, title(event));
    else lines.title(event.vm, title(event));
  };
  try {
    return await work({ onStart, onVm });
  } finally {
    await lines?.close();
  }
}

function title(event: DrainVmEvent): string {
  const head = `${event.vm} → ${event.target ?? '(no target)'}`;
  switch (event.outcome) {
    case 'armed':
      return `${head}: armed, moves at its next reboot`;
    case 'blocked':
      return `${head}: blocked, stays`;
    case 'failed':
      return `${head}: failed: ${event.message ?? ''}`;
    case 'pending':
      return `${head}: waiting for a copy slot`;
    default:
      return `${head}: ${event.step ?? 'preparing'}${event.message ? ` ${event.message}` : ''}`;
  }
}

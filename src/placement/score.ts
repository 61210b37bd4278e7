import { freeFractionAfter } from './capacity.js';
import type { FleetState } from './fleet-state.js';
import type { Score, Strategy } from './types.js';

export function scoreAt(
  state: FleetState,
  i: number,
  memoryKiB: number,
  vcpus: number,
  diskNeed: number,
): Score {
  return {
    memory: freeFractionAfter(
      state.memoryCapacity[i] as number,
      state.memoryCommitted[i] as number,
      memoryKiB,
    ),
    vcpu: freeFractionAfter(state.vcpuCapacity[i] as number, state.vcpusCommitted[i] as number, vcpus),
    disk: freeFractionAfter(state.diskFree[i] as number, state.diskClaimed[i] as number, diskNeed),
  };
}

/**
 * Whether a beats b: spread wants the most free memory fraction left, then vCPU, then disk; pack the least. Equal
 * scores do not beat each other, so the host met first (hosts are scanned in name order) wins a tie.
 */
export function beats(a: Score, b: Score, strategy: Strategy): boolean {
  const sign = strategy === 'spread' ? 1 : -1;
  if (a.memory !== b.memory) return sign * (a.memory - b.memory) > 0;
  if (a.vcpu !== b.vcpu) return sign * (a.vcpu - b.vcpu) > 0;
  if (a.disk !== b.disk) return sign * (a.disk - b.disk) > 0;
  return false;
}

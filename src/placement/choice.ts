import type { Score } from './types.js';

/** The host an engine picked for a VM, by index into FleetState.hosts. */
export interface Choice {
  index: number;
  score: Score;
  /** Warning verdicts of the chosen host (a host-model CPU change). */
  warnings: string[];
}

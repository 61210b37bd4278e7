import { type MakeDrainPlanOptions, makeDrainPlan } from '../drain/make-plan.js';
import type { DrainPlanReport } from '../drain/types.js';
import type { Runtime } from '../migration/index.js';
import { withInventoryProgress } from './progress/inventory.js';
import type { ProgressMode } from './progress/lines.js';

export type PlanDrainOptions = Pick<
  MakeDrainPlanOptions,
  'strategy' | 'explain' | 'linkSpeedMiBps' | 'bandwidthBytesPerSec'
>;

/** The drain plan of `host` over a fresh read of the fleet, with a progress line per host read. */
export function planDrain(
  rt: Runtime,
  host: string,
  options: PlanDrainOptions,
  mode: ProgressMode,
): Promise<DrainPlanReport> {
  return withInventoryProgress(
    rt.config.hosts.map((entry) => entry.name),
    mode,
    (callbacks) => makeDrainPlan(rt, host, { ...callbacks, ...options }),
  );
}

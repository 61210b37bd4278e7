import { type DrainRequest, drainHost } from '../drain/drain.js';
import { requireConfiguredHost } from '../drain/make-plan.js';
import type { DrainPlanReport, DrainResult } from '../drain/types.js';
import { type Runtime, resolveDeadline, type WaitMovedResult } from '../migration/index.js';
import type { Strategy } from '../placement/types.js';
import { enginePrepareAndArm } from './drain-engine.js';
import { planDrain } from './plan-drain.js';
import { withDrainProgress } from './progress/drain.js';
import type { ProgressMode } from './progress/lines.js';
import { thenWait, type WaitRequest } from './wait.js';

export type DrainOutcome =
  | (DrainResult & { wait?: WaitMovedResult })
  | { cancelled: true; plan: DrainPlanReport };

export interface DrainHostRequest extends Omit<DrainRequest, 'deadline'> {
  /** As typed: an ISO date with its zone, or +7d, +12h, +30m; within notify.maxDeadlineDays. */
  deadline: string;
  strategy: Strategy;
}

/**
 * `rehome drain`: the domain's drainHost with the runtime's store, a fresh plan, and the migration engine's prepare
 * and arm. `confirm` sees the plan before anything moves (the CLI asks there). With `wait`, once every VM is armed,
 * it follows their migrations until each has moved (or the wait times out).
 */
export async function drainHostWithRuntime(
  rt: Runtime,
  request: DrainHostRequest,
  ui: { mode: ProgressMode; confirm: (plan: DrainPlanReport) => Promise<boolean> },
  wait?: WaitRequest<DrainResult>,
): Promise<DrainOutcome> {
  const { deadline } = resolveDeadline(request.deadline, new Date(), rt.config.notify?.maxDeadlineDays);
  requireConfiguredHost(rt.config, request.host);
  const { strategy, ...drain } = request;
  // The plan's ETAs at the drain's --bandwidth, when it is below the link speed.
  const planOptions = {
    strategy,
    ...(drain.bandwidthBytesPerSec ? { bandwidthBytesPerSec: drain.bandwidthBytesPerSec } : {}),
  };
  const result = await withDrainProgress(ui.mode, (callbacks) =>
    drainHost(
      {
        store: rt.store,
        plan: (host) => planDrain(rt, host, planOptions, ui.mode),
        confirm: ui.confirm,
        prepareAndArm: enginePrepareAndArm(rt),
      },
      { ...drain, deadline },
      callbacks,
    ),
  );
  if ('cancelled' in result) return result;
  const armed = result.drain.vms.filter((vm) => vm.outcome === 'armed' && vm.migrationId !== null);
  return thenWait(
    rt,
    result,
    armed.map((vm) => vm.migrationId as string),
    wait,
  );
}

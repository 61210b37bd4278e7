import { type DrainRequest, drainHost } from '../drain/drain.js';
import { requireConfiguredHost } from '../drain/make-plan.js';
import type { DrainPlanReport, DrainResult } from '../drain/types.js';
import { type Runtime, resolveDeadline } from '../migration/index.js';
import type { Strategy } from '../placement/types.js';
import { enginePrepareAndArm } from './drain-engine.js';
import { planDrain } from './plan-drain.js';
import { withDrainProgress } from './progress/drain.js';
import type { ProgressMode } from './progress/lines.js';

export type DrainOutcome = DrainResult | { cancelled: true; plan: DrainPlanReport };

export interface DrainHostRequest extends Omit<DrainRequest, 'deadline'> {
  /** As typed: an ISO date with its zone, or +7d, +12h, +30m; within notify.maxDeadlineDays. */
  deadline: string;
  strategy: Strategy;
}

/**
 * `rehome drain`: the domain's drainHost with the runtime's store, a fresh plan, and the migration engine's prepare
 * and arm. `confirm` sees the plan before anything moves (the CLI asks there).
 */
export function drainHostWithRuntime(
  rt: Runtime,
  request: DrainHostRequest,
  ui: { mode: ProgressMode; confirm: (plan: DrainPlanReport) => Promise<boolean> },
): Promise<DrainOutcome> {
  const { deadline } = resolveDeadline(request.deadline, new Date(), rt.config.notify?.maxDeadlineDays);
  requireConfiguredHost(rt.config, request.host);
  const { strategy, ...drain } = request;
  return withDrainProgress(ui.mode, (callbacks) =>
    drainHost(
      {
        store: rt.store,
        plan: (host) => planDrain(rt, host, { strategy }, ui.mode),
        confirm: ui.confirm,
        prepareAndArm: enginePrepareAndArm(rt),
      },
      { ...drain, deadline },
      callbacks,
    ),
  );
}

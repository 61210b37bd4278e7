export { type CordonResult, cordonHost, uncordonHost } from './cordon.js';
export { blockedError, type DrainDeps, type DrainRequest, drainHost } from './drain.js';
export { makeDrainPlan, requireConfiguredHost } from './make-plan.js';
export { planHostDrain } from './plan.js';
export { forEachLimited } from './pool.js';
export { DEFAULT_REARM_POLICY, type RearmEntry, type RearmPolicy, rearmDrains } from './rearm.js';
export { MEASURED_LINK_MIB_PER_SEC } from './settings.js';
export { type DrainStatus, type DrainVmStatus, drainStatus } from './status.js';
export type * from './types.js';

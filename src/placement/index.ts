export { vmBlockers } from './blockers.js';
export { bytesToCopy, diskNeedBytes, memoryCapacityKiB, vcpuCapacity } from './capacity.js';
export { guestCpuKey, hostCpuSignature } from './cpu-key.js';
export { FILTERS } from './filters/index.js';
export { placeOne, planDrain, planPlacements } from './plan.js';
export { planTotals } from './totals.js';
export type * from './types.js';

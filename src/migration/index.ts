export { describeCopyProgress } from './copy-rate.js';
export type { Runtime } from './runtime.js';
export { BANDWIDTH_HELP, parseBandwidth } from './services/bandwidth.js';
export { cancel, type RebootNowResult, rebootNow, runCutover } from './services/cutover.js';
export { resolveDeadline } from './services/deadline.js';
export { HOST_LEASE_TTL_MS, type HostLeaseStatus, listHostLeases } from './services/host-leases.js';
export { type MigrateOptions, type MigrateResult, migrate } from './services/migrate.js';
export { closeNotices } from './services/notices.js';
export { type ServingOwnerLinks, serveOwnerLinks } from './services/owner-links.js';
export { type ReconcileEntry, reconcile } from './services/reconcile.js';
export { type RescheduleResult, reschedule } from './services/reschedule.js';
export { type StatusResult, status } from './services/status.js';
export {
  type WaitedMigration,
  type WaitMovedResult,
  waitUntilMoved,
} from './services/wait-moved.js';
export { Watcher, type WatchSummary } from './services/watch.js';
export {
  type TimedWatchEvent,
  type WatchEvent,
  type WatchSnapshot,
  watchEventFromProgress,
} from './services/watch-events.js';
export { migrationSettings } from './settings.js';
export type { HostsPort, ProgressEvent, ProgressSink } from './types.js';

export { cancel, type RebootNowResult, rebootNow, runCutover } from './cutover.js';
export { type MigrateResult, migrate } from './migrate.js';
export { type ReconcileEntry, reconcile } from './reconcile.js';
export type { Runtime } from './runtime.js';
export { type StatusResult, status } from './status.js';
export type { ProgressEvent, ProgressSink } from './types.js';
export { Watcher, type WatchSummary } from './watch.js';

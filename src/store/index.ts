export * from './errors.js';
export { judgeHolder, type Staleness, type StalenessProbe } from './lock-staleness.js';
export * from './phases.js';
export { isPidAlive } from './process-alive.js';
export {
  DEFAULT_DB_FILE,
  defaultStorePath,
  type OpenedSqliteStore,
  openSqliteStore,
  type SqliteStoreOptions,
} from './sqlite/open.js';
export { toIsoUtc } from './time.js';
export type * from './types.js';

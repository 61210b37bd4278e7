export * from './errors.js';
export { judgeHolder, type Staleness, type StalenessProbe } from './lock-staleness.js';
export { openStore, type StoreLocation } from './open.js';
export * from './phases.js';
export {
  isPostgresUrl,
  type OpenedPostgresStore,
  openPostgresStore,
  type PostgresStoreOptions,
  redactUrl,
} from './postgres/open.js';
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

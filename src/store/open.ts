import { isPostgresUrl, openPostgresStore } from './postgres/open.js';
import { openSqliteStore } from './sqlite/open.js';
import type { Store } from './types.js';

export interface StoreLocation {
  /** `store.url` of the config: a PostgreSQL URL. */
  url?: string;
  /** The embedded default, used without a URL. */
  sqlitePath: string;
}

/** The configured store: PostgreSQL when the config names a server, else SQLite in the data dir (the default). */
export async function openStore(location: StoreLocation): Promise<Store> {
  if (location.url !== undefined && isPostgresUrl(location.url)) return openPostgresStore(location.url);
  return openSqliteStore(location.sqlitePath);
}

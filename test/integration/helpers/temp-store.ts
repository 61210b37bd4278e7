import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Teardown = { teardown(fn: () => void): void };

/** A fresh temp dir that is removed when the test ends. */
export function tempStoreDir(t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'rehome-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh database path in a temp dir that is removed when the test ends. */
export function tempDbPath(t: Teardown): string {
  return join(tempStoreDir(t), 'rehome.db');
}

/** better-sqlite3's SqliteError is not a native Error, so ava's t.throws refuses it; read it by hand. */
export function sqliteFailure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return `${e.code}: ${e.message}`;
  }
  return 'no error';
}

import { chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export const DB_FILE_MODE = 0o600;
export const DB_DIR_MODE = 0o700;

/** The files SQLite keeps next to the database in WAL mode. */
export function companionFiles(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`];
}

/**
 * Creates the parent directory (0700) if it is missing, and the database file (0600) if it is missing, so that the
 * file never exists with looser bits. An existing parent directory is left alone: it may be shared, like /tmp.
 */
export function prepareDbFile(dbPath: string): void {
  const dir = dirname(dbPath);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: DB_DIR_MODE });
    chmodSync(dir, DB_DIR_MODE);
  }
  const fd = openSync(dbPath, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, DB_FILE_MODE);
  closeSync(fd);
}

/** Tightens the database and its WAL companions to 0600. Returns the files whose mode had to be fixed. */
export function enforceFileModes(dbPath: string): string[] {
  const fixed: string[] = [];
  for (const file of companionFiles(dbPath)) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (mode !== DB_FILE_MODE) {
      chmodSync(file, DB_FILE_MODE);
      fixed.push(file);
    }
  }
  return fixed;
}

import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  type Stats,
} from 'node:fs';
import { dirname } from 'node:path';
import { RehomeError } from '../../errors.js';

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
  let fd: number;
  try {
    fd = openSync(
      dbPath,
      constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      DB_FILE_MODE,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  closeSync(fd);
}

/**
 * Tightens the database and its WAL companions to 0600, before SQLite opens them. Returns the files whose mode had to
 * be fixed. A companion that is a symbolic link, not a regular file, or owned by another user is refused, never
 * followed: a link planted as `rehome.db-wal` would otherwise have its target's mode changed (and the database write
 * through it).
 *
 * The checks use lstat only. A descriptor is opened only to fix a wrong mode, and then checked to be the file lstat saw.
 * Opening and closing a descriptor on a database file that this process already has open would drop SQLite's POSIX
 * locks on it (closing any descriptor releases all of the process's locks on that file): other processes would then
 * rebuild the WAL index and stop seeing this process's commits until it closed. So never call this on a database that
 * is open in this process; SQLite creates the WAL files with the database file's mode.
 */
export function enforceFileModes(dbPath: string): string[] {
  const fixed: string[] = [];
  for (const file of companionFiles(dbPath)) {
    let link: Stats;
    try {
      link = lstatSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    checkOwnRegularFile(file, link);
    if ((link.mode & 0o777) === DB_FILE_MODE) continue;
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stat = fstatSync(fd);
      if (stat.ino !== link.ino || stat.dev !== link.dev) refuse(file, 'was replaced while being checked');
      fchmodSync(fd, DB_FILE_MODE);
      fixed.push(file);
    } finally {
      closeSync(fd);
    }
  }
  return fixed;
}

function checkOwnRegularFile(file: string, stat: Stats): void {
  if (stat.isSymbolicLink()) refuse(file, 'is a symbolic link');
  if (!stat.isFile()) refuse(file, 'is not a regular file');
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid)
    refuse(file, `is owned by uid ${stat.uid}, not by this user (${uid})`);
}

function refuse(file: string, why: string): never {
  throw new RehomeError(
    `Refusing to open the rehome database: ${file} ${why}`,
    'config',
    [
      'Remove it (rehome recreates the WAL files), or point rehome at a database in a directory only you can write.',
    ],
    { subject: { code: 'unsafe-db-file', path: file } },
  );
}

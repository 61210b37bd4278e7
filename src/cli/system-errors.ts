/**
 * Errors from this machine rather than from rehome's hosts: a file or directory that cannot be read or written, a
 * port in use, an address not on this machine. Node raises them with an errno `code`; here they become one clear
 * sentence and the `environment` exit code instead of "unexpected" and a raw EACCES.
 */
import { RehomeError } from '../errors.js';

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
}

const FILE_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory',
};

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use by another process',
  EADDRNOTAVAIL: 'that address is not on this machine',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
};

/** SQLite's own codes for a database file it cannot open or write. */
const SQLITE_PROBLEMS: Record<string, string> = {
  SQLITE_CANTOPEN: 'the file or its directory cannot be opened',
  SQLITE_READONLY: 'the database or its directory is read-only',
  SQLITE_FULL: 'the disk is full',
  SQLITE_PERM: 'permission denied',
};

/** The error as an `environment` RehomeError when it is one of these, else undefined. */
export function environmentError(err: unknown): RehomeError | undefined {
  if (!(err instanceof Error) || err instanceof RehomeError) return undefined;
  const { code, syscall, path, dest, address, port } = err as SystemError;
  if (!code) return undefined;
  const make = (message: string, hints: string[] = []) =>
    new RehomeError(message, 'environment', hints, { cause: err });
  if (syscall === 'listen' || syscall === 'bind') {
    const problem = LISTEN_PROBLEMS[code];
    const where =
      port === undefined ? (address ?? '') : `${address?.includes(':') ? `[${address}]` : address}:${port}`;
    if (problem) return make(`Cannot listen on ${where}: ${problem}`, ['Choose another address or port.']);
  }
  if (path && FILE_PROBLEMS[code]) {
    const target = dest ? `${path} → ${dest}` : path;
    return make(`Cannot ${syscall ?? 'use'} ${target}: ${FILE_PROBLEMS[code]}`, [
      'rehome writes its config under REHOME_CONFIG_DIR (or --config) and its state under REHOME_DATA_DIR.',
    ]);
  }
  if (SQLITE_PROBLEMS[code])
    return make(`Cannot use the state database: ${SQLITE_PROBLEMS[code]} (${err.message})`, [
      'Its directory is REHOME_DATA_DIR, by default ~/.local/share/rehome; it must be writable.',
    ]);
  return undefined;
}

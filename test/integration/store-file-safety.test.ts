import { chmodSync, chownSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { RehomeError } from '../../src/errors.js';
import { openSqliteStore } from '../../src/store/index.js';
import { tempStoreDir } from './helpers/temp-store.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;

test('a symbolic link planted as the WAL file is refused, and its target is left as it was', (t) => {
  const dir = tempStoreDir(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, "not rehome's", { mode: 0o644 });
  const path = join(dir, 'rehome.db');
  symlinkSync(victim, `${path}-wal`);
  const error = t.throws(() => openSqliteStore(path)) as RehomeError;
  t.is(error.kind, 'config');
  t.like(error.subject, { code: 'unsafe-db-file', path: `${path}-wal` });
  t.regex(error.message, /symbolic link/);
  t.is(modeOf(victim), 0o644);
});

test('a companion file owned by another user is refused', (t) => {
  if (process.getuid?.() !== 0) {
    t.pass('needs root to give a file away');
    return;
  }
  const dir = tempStoreDir(t);
  const path = join(dir, 'rehome.db');
  writeFileSync(`${path}-shm`, '');
  chmodSync(`${path}-shm`, 0o666);
  chownSync(`${path}-shm`, 65534, 65534);
  const error = t.throws(() => openSqliteStore(path)) as RehomeError;
  t.like(error.subject, { code: 'unsafe-db-file', path: `${path}-shm` });
  t.regex(error.message, /owned by uid 65534/);
  t.is(modeOf(`${path}-shm`), 0o666);
});

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PostgreSQL server for tests: its URL, and how to stop it (a no-op for a server given from outside). */
export interface TestPostgres {
  url: string;
  /** The postmaster's pid, for a private cluster. */
  pid?: number;
  stop(): void;
}

export interface ClusterOptions {
  durability?: 'none' | 'async-commit' | 'full';
}

/** The directory holding initdb and pg_ctl: REHOME_PG_BIN, else the newest /usr/lib/postgresql/<n>/bin. */
function pgBinDir(): string {
  if (process.env.REHOME_PG_BIN) return process.env.REHOME_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0])
    throw new Error(
      "No PostgreSQL server binaries: install Debian's postgresql (apt-get install --no-install-recommends postgresql), set REHOME_PG_BIN, or give a server in REHOME_TEST_PG_URL",
    );
  return join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user. */
function runAsServerUser(bin: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * initdb into a fresh temp dir and start a postmaster on a unix socket in it (no TCP port), trust auth. Durability:
 * `none` (the default, a throwaway cluster: no fsync), `async-commit` (fsync on, but a commit does not wait for its
 * WAL flush: a crash of the machine may lose the last commits, never corrupts), `full` (the server's defaults). Stop
 * with the returned stop(): an immediate shutdown, then the directory is removed.
 */
export function startPrivateCluster(options: ClusterOptions = {}): TestPostgres {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'rehome-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const stop = () => {
    try {
      runAsServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // not started, or already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    runAsServerUser(join(bin, 'initdb'), [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const durability = {
      none: ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'],
      'async-commit': ['-c synchronous_commit=off'],
      full: [],
    }[options.durability ?? 'none'];
    const serverOptions = [
      `-k ${dir}`,
      "-c listen_addresses=''",
      '-c max_connections=200',
      ...durability,
    ].join(' ');
    runAsServerUser(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      serverOptions,
      'start',
    ]);
  } catch (err) {
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    stop();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `Could not start a private PostgreSQL cluster: ${(err as Error).message}\n${stderr}\n${log}`,
    );
  }
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return { url: `postgresql://postgres@/postgres?host=${encodeURIComponent(dir)}`, pid, stop };
}

/** REHOME_TEST_PG_URL if given (the test command's wrapper sets it), else a private cluster for this process. */
export function testPostgres(options: ClusterOptions = {}): TestPostgres {
  const given = process.env.REHOME_TEST_PG_URL;
  if (given) return { url: given, stop: () => {} };
  return startPrivateCluster(options);
}

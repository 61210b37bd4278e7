/**
 * bench/store-scale: the state of a 2,000-host fleet in each store, SQLite and PostgreSQL, in the same run.
 * Run with `npx tsx bench/store-scale.ts [--vms 40000] [--hosts 2000] [--full-durability]`. PostgreSQL:
 * REHOME_TEST_PG_URL, else a private cluster on a unix socket, started and stopped, with fsync on but
 * synchronous_commit off (a commit does not wait for its WAL flush), unless --full-durability (the server's defaults:
 * on a slow disk every commit then waits for an fsync, about 20 ms on the shared machine of 2026-11-30).
 *
 * Each backend runs in its own child process (so that its peak RSS is its own), on a fresh store:
 * - plan: a drain plan for the fleet persisted (one drain per draining host, every tenth host, with its VMs and their
 *   planned targets: 200 drains × 200 VMs for the defaults), then read back whole (listDrains);
 * - migrations: one record per VM created (each its own transaction, with its audit row, as `migrate` does);
 * - reconcile pass: the store side of one pass over every record: list the active migrations, and for each read its
 *   lock holder, take and release its lock and write one details update under the lock's fence (what a pass that
 *   finds work does per VM; observing the hosts is not the store's cost and is left out).
 * It prints each timing, the PostgreSQL / SQLite ratio, and each child's peak RSS (the PostgreSQL server's own memory
 * is not in it).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openPostgresStore } from '../src/store/postgres/open.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';
import type { NewDrain, Store } from '../src/store/types.js';
import { testPostgres } from '../test/pg/private-cluster.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const VMS = arg('vms', 40_000);
const HOSTS = arg('hosts', 2_000);
const DRAINING_EVERY = 10;

interface ChildResult {
  backend: string;
  timings: Record<string, number>;
  maxRssMb: number;
}

async function timed<T>(timings: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await fn();
  timings[name] = Math.round(performance.now() - start);
  process.stderr.write(`  ${name}: ${timings[name]} ms\n`);
  return value;
}

function planDrains(): NewDrain[] {
  const draining = Array.from(
    { length: Math.ceil(HOSTS / DRAINING_EVERY) },
    (_, i) => `hv${i * DRAINING_EVERY}`,
  );
  const perHost = Math.ceil(VMS / draining.length);
  return draining.map((host, h) => ({
    host,
    concurrency: 4,
    vms: Array.from({ length: Math.min(perHost, VMS - h * perHost) }, (_, v) => {
      const n = h * perHost + v;
      return {
        vmUuid: `uuid-${n}`,
        vmName: `vm${n}`,
        targetHost: `hv${(n % HOSTS) + 1 === h * DRAINING_EVERY ? n % HOSTS : (n % HOSTS) + 1}`,
        outcome: 'pending' as const,
      };
    }),
  }));
}

async function child(backend: string, url: string): Promise<ChildResult> {
  const timings: Record<string, number> = {};
  process.stderr.write(`${backend}:\n`);
  const dir = join(tmpdir(), `rehome-bench-${process.pid}`);
  const store: Store =
    backend === 'sqlite'
      ? openSqliteStore(join(dir, 'rehome.db'))
      : await openPostgresStore(url, { schema: `bench_${process.pid}` });
  try {
    const drains = planDrains();
    await timed(timings, 'plan: persist', async () => {
      for (const drain of drains) await store.createDrain(drain);
    });
    const read = await timed(timings, 'plan: read back', () => store.listDrains());
    if (read.reduce((n, d) => n + d.vms.length, 0) !== VMS) throw new Error('plan read back incomplete');

    await timed(timings, `create ${VMS} migrations`, async () => {
      for (let n = 0; n < VMS; n++)
        await store.createMigration({
          vmName: `vm${n}`,
          vmUuid: `uuid-${n}`,
          sourceHost: `hv${(n % (HOSTS / DRAINING_EVERY)) * DRAINING_EVERY}`,
          targetHost: `hv${(n % HOSTS) + 1}`,
        });
    });
    const owner = { pid: process.pid, host: 'bench', purpose: 'reconcile' };
    await timed(timings, 'reconcile pass', async () => {
      const active = await store.listMigrations({ activeOnly: true });
      for (const record of active) {
        await store.getLockHolder(record.vmUuid);
        const lock = await store.acquireLock(record.vmUuid, owner, 60_000);
        await store.updateDetails(record.id, record.phase, { lastError: null }, lock.fence);
        await lock.release();
      }
    });
    await timed(timings, 'list active (status)', () => store.listMigrations({ activeOnly: true }));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { backend, timings, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) {
    const result = await child(process.argv[childAt + 1] as string, process.argv[childAt + 2] as string);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const durability = process.argv.includes('--full-durability') ? 'full' : 'async-commit';
  const server = testPostgres({ durability });
  try {
    const self = fileURLToPath(import.meta.url);
    const run = (backend: string): ChildResult =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            '--import',
            'tsx',
            self,
            '--child',
            backend,
            server.url,
            '--vms',
            String(VMS),
            '--hosts',
            String(HOSTS),
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
        ).trim(),
      ) as ChildResult;
    const sqlite = run('sqlite');
    const postgres = run('postgres');
    console.log(
      `store-scale: ${HOSTS} hosts, ${VMS} VMs, PostgreSQL durability ${durability} (${new Date().toISOString()})`,
    );
    console.log(
      `${'measure'.padEnd(28)}${'sqlite ms'.padStart(12)}${'postgres ms'.padStart(14)}${'pg/sqlite'.padStart(12)}`,
    );
    for (const [name, ms] of Object.entries(sqlite.timings)) {
      const pg = postgres.timings[name] ?? Number.NaN;
      console.log(
        `${name.padEnd(28)}${String(ms).padStart(12)}${String(pg).padStart(14)}${(pg / Math.max(1, ms)).toFixed(2).padStart(12)}`,
      );
    }
    console.log(
      `${'peak RSS (MB)'.padEnd(28)}${String(sqlite.maxRssMb).padStart(12)}${String(postgres.maxRssMb).padStart(14)}`,
    );
  } finally {
    server.stop();
  }
}

await main();

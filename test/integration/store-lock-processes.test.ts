import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { LockedError, openSqliteStore } from '../../src/store/index.js';
import { tempStoreDir } from './helpers/temp-store.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const storeModule = new URL('../../src/store/index.ts', import.meta.url).href;

/** A real rehome-like process: opens the store, waits for "go" on stdin, tries the lock, reports, then holds on. */
const holderSource = `
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { isPidAlive, openSqliteStore } from ${JSON.stringify(storeModule)};

const [dbPath, vmKey, probeMs] = process.argv.slice(2);
// A slow liveness probe widens the gap between reading a stale holder and replacing it, where a race would show.
const slowProbe = (pid) => {
  const until = Date.now() + Number(probeMs);
  while (Date.now() < until) {}
  return isPidAlive(pid);
};
const store = openSqliteStore(dbPath, { isPidAlive: slowProbe });
const say = (msg) => process.stdout.write(JSON.stringify(msg) + '\\n');
say({ ready: true });
createInterface({ input: process.stdin }).once('line', async () => {
  try {
    const lock = await store.acquireLock(vmKey, { pid: process.pid, host: hostname(), purpose: 'child-holder' }, 600_000);
    say({ locked: true, tookOverFrom: lock.tookOverFrom?.pid });
  } catch (err) {
    say({ locked: false, name: err.name, holderPid: err.holder?.pid });
  }
  setInterval(() => {}, 60_000);
});
`;

interface Report {
  ready?: boolean;
  locked?: boolean;
  tookOverFrom?: number;
  name?: string;
  holderPid?: number;
}

class Child {
  readonly proc: ChildProcess;
  private readonly reports: Report[] = [];
  private waiters: (() => void)[] = [];

  constructor(script: string, dbPath: string, vmKey: string, probeMs: number) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', script, dbPath, vmKey, String(probeMs)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.reports.push(JSON.parse(line) as Report);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  async next(): Promise<Report> {
    while (this.reports.length === 0) {
      if (this.proc.exitCode !== null) throw new Error(`child ${this.pid} exited ${this.proc.exitCode}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.reports.shift() as Report;
  }

  go(): void {
    this.proc.stdin?.write('go\n');
  }

  /** SIGKILL by pid, and wait until it is reaped (a zombie still answers kill -0). */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    process.kill(this.pid, 'SIGKILL');
    await exited;
  }
}

function setup(t: { teardown(fn: () => void | Promise<void>): void }) {
  const dir = tempStoreDir(t);
  const script = join(dir, 'holder.ts');
  writeFileSync(script, holderSource);
  const dbPath = join(dir, 'rehome.db');
  const children: Child[] = [];
  const start = (vmKey: string, probeMs = 0) => {
    const child = new Child(script, dbPath, vmKey, probeMs);
    children.push(child);
    return child;
  };
  t.teardown(async () => {
    for (const child of children) await child.kill();
  });
  return { dbPath, start };
}

test('a lock held by another process refuses us, naming its pid; once it is killed, we take it over', async (t) => {
  const { dbPath, start } = setup(t);
  const child = start('uuid-web1');
  t.deepEqual(await child.next(), { ready: true });
  child.go();
  t.deepEqual(await child.next(), { locked: true });

  const store = openSqliteStore(dbPath);
  t.teardown(() => store.close());
  const me = { pid: process.pid, host: 'ignored-for-takeover', purpose: 'test' };
  const err = await t.throwsAsync(store.acquireLock('uuid-web1', me, 60_000), { instanceOf: LockedError });
  t.is(err?.holder.pid, child.pid);
  t.regex(err?.message ?? '', new RegExp(`locked by pid ${child.pid} on \\S+ since \\S+ \\(child-holder\\)`));

  await child.kill();
  const lock = await store.acquireLock('uuid-web1', me, 60_000);
  t.is(lock.tookOverFrom?.pid, child.pid);
  const takeover = (await store.listAudit({ vm: 'uuid-web1' })).find((e) => e.step === 'lock-takeover');
  t.like(takeover?.detail, { reason: 'holder-dead', previous: { pid: child.pid, purpose: 'child-holder' } });
  await lock.release();
});

test('processes racing to take over a dead holder’s lock: exactly one wins, the others name it', async (t) => {
  const { start } = setup(t);
  const crashed = start('uuid-db1');
  await crashed.next();
  crashed.go();
  t.like(await crashed.next(), { locked: true });
  await crashed.kill();

  const racers = [1, 2, 3, 4].map(() => start('uuid-db1', 100));
  for (const r of racers) t.deepEqual(await r.next(), { ready: true });
  for (const r of racers) r.go();
  const results = await Promise.all(racers.map((r) => r.next()));

  const winners = racers.filter((_, i) => results[i]?.locked);
  t.is(winners.length, 1, JSON.stringify(results));
  for (const [i, result] of results.entries()) {
    const expected = result.locked
      ? { locked: true, tookOverFrom: crashed.pid }
      : { locked: false, name: 'LockedError', holderPid: winners[0]?.pid };
    t.deepEqual(result, expected, `racer ${i}`);
  }
});

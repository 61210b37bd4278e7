import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/index.js';
import { type TestPostgres, testPostgres } from '../pg/private-cluster.js';

/**
 * Several processes on one PostgreSQL, as watch replicas on several machines: each child opens its own store (its own
 * pool) and acts on commands from stdin. The host names differ, so only a lease's expiry frees a lock.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const worker = fileURLToPath(new URL('./helpers/store-worker.ts', import.meta.url));

let server: TestPostgres | undefined;
test.before(() => {
  server = testPostgres();
});
test.after.always(() => server?.stop());

interface Reply {
  ok: boolean;
  name?: string;
  message?: string;
  [key: string]: unknown;
}

class Replica {
  readonly proc: ChildProcess;
  private readonly replies: Reply[] = [];
  private waiters: (() => void)[] = [];

  constructor(url: string, schema: string, host: string) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', worker, url, schema, host], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.replies.push(JSON.parse(line) as Reply);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  async next(): Promise<Reply> {
    while (this.replies.length === 0) {
      if (this.proc.exitCode !== null) throw new Error(`replica ${this.pid} exited ${this.proc.exitCode}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.replies.shift() as Reply;
  }

  send(command: Record<string, unknown>): void {
    this.proc.stdin?.write(`${JSON.stringify(command)}\n`);
  }

  async ask(command: Record<string, unknown>): Promise<Reply> {
    this.send(command);
    return this.next();
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    process.kill(this.pid, 'SIGKILL');
    await exited;
  }
}

async function setup(t: ExecutionContext) {
  const url = (server as TestPostgres).url;
  const schema = `p_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresStore(url, { schema, localHost: 'mgr-test' });
  const replicas: Replica[] = [];
  t.teardown(async () => {
    for (const replica of replicas) await replica.kill();
    await store.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  const start = async (host: string) => {
    const replica = new Replica(url, schema, host);
    replicas.push(replica);
    t.is((await replica.next()).ok, true, `replica on ${host} ready`);
    return replica;
  };
  return { store, start };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('replicas racing for one free lock, then for an expired one: exactly one wins each time', async (t) => {
  const { start } = await setup(t);
  const replicas = await Promise.all(['mgr-a', 'mgr-b', 'mgr-c', 'mgr-d'].map(start));
  for (const replica of replicas) replica.send({ op: 'lock', vmKey: 'uuid-web1', ttlMs: 1500 });
  const first = await Promise.all(replicas.map((r) => r.next()));
  const winners = first.filter((reply) => reply.ok);
  t.is(winners.length, 1, JSON.stringify(first));
  const winnerPid = winners[0]?.pid;
  for (const reply of first.filter((r) => !r.ok))
    t.like(reply, { name: 'LockedError', holderPid: winnerPid });

  await sleep(1700);
  for (const replica of replicas) replica.send({ op: 'lock', vmKey: 'uuid-web1', ttlMs: 60_000 });
  const second = await Promise.all(replicas.map((r) => r.next()));
  const takers = second.filter((reply) => reply.ok);
  t.is(takers.length, 1, JSON.stringify(second));
  t.is(takers[0]?.tookOverFrom, winnerPid, 'the expired holder was taken over');
});

test('a holder stopped past its lease is taken over; resumed, it can neither refresh nor move a phase', async (t) => {
  const { store, start } = await setup(t);
  const migration = await store.createMigration({
    vmName: 'web1',
    vmUuid: 'uuid-web1',
    sourceHost: 'lab-a',
    targetHost: 'lab-b',
  });
  const stale = await start('mgr-a');
  t.like(await stale.ask({ op: 'lock', vmKey: 'uuid-web1', ttlMs: 1000 }), { ok: true });
  t.like(await stale.ask({ op: 'phase', id: migration.id, from: 'planned', to: 'preparing' }), { ok: true });

  process.kill(stale.pid, 'SIGSTOP');
  try {
    await sleep(1200);
    const taker = await store.acquireLock(
      'uuid-web1',
      { pid: process.pid, host: 'mgr-test', purpose: 'takeover' },
      60_000,
    );
    t.is(taker.tookOverFrom?.host, 'mgr-a');
    await store.updatePhase(migration.id, 'preparing', 'mirroring', {}, taker.fence);
  } finally {
    process.kill(stale.pid, 'SIGCONT');
  }

  // The stale holder believes the phase is still `preparing` and tries to move on, then to roll back.
  t.like(await stale.ask({ op: 'phase', id: migration.id, from: 'preparing', to: 'rolling-back' }), {
    ok: false,
    name: 'LockLostError',
  });
  t.like(await stale.ask({ op: 'phase', id: migration.id, from: 'mirroring', to: 'armed' }), {
    ok: false,
    name: 'LockLostError',
  });
  t.like(await stale.ask({ op: 'refresh' }), { ok: false, name: 'LockLostError' });
  t.like(await stale.ask({ op: 'release' }), { ok: true });
  const after = await store.getMigration(migration.id);
  t.is(after?.phase, 'mirroring');
  t.is((await store.getLockHolder('uuid-web1'))?.purpose, 'takeover', 'the stale release freed nothing');
  const moves = (await store.listAudit({ migrationId: migration.id })).filter((e) => e.step === 'phase');
  t.deepEqual(
    moves.map((e) => e.detail),
    [
      { from: 'planned', to: 'preparing' },
      { from: 'preparing', to: 'mirroring' },
    ],
  );
});

test('concurrent fenced writes from several replicas: each migration moves once, by its lock holder', async (t) => {
  const { store, start } = await setup(t);
  const replicas = await Promise.all(['mgr-a', 'mgr-b', 'mgr-c'].map(start));
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const m = await store.createMigration({
      vmName: `vm${i}`,
      vmUuid: `uuid-${i}`,
      sourceHost: 'a',
      targetHost: 'b',
    });
    ids.push(m.id);
  }
  // Each replica locks every VM it can (short leases), then all of them try to move every migration at once.
  for (const replica of replicas)
    replica.send({ op: 'lock-all', vmKeys: ids.map((_, i) => `uuid-${i}`), ttlMs: 60_000 });
  const locked = await Promise.all(replicas.map((r) => r.next()));
  const held = locked.map((reply) => reply.held as string[]);
  t.is(held.flat().length, 20, 'each lock has one holder');
  for (const replica of replicas) replica.send({ op: 'phase-all', ids, from: 'planned', to: 'preparing' });
  const moved = (await Promise.all(replicas.map((r) => r.next()))).map((reply) => reply.moved as string[]);
  t.is(moved.flat().length, 20, 'every migration moved exactly once');
  for (const [i, replica] of moved.entries()) {
    const mine = new Set(held[i]);
    t.true(
      replica.every((id) => mine.has(`uuid-${ids.indexOf(id)}`)),
      `replica ${i} moved only the migrations of the VMs it holds`,
    );
  }
});

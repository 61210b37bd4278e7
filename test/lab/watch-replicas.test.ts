/**
 * Two `rehome watch` replicas on one PostgreSQL (a private cluster on a unix socket, which the operator namespace
 * reaches through the shared /tmp), sharing lab-a and lab-b by host leases.
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import pg from 'pg';
import { startPrivateCluster } from '../pg/private-cluster.js';
import { consoleTails } from './console.js';
import { assertGuestOn, type Background, phaseOf, rehomeJson, waitForPhase } from './helpers-migration.js';
import { agentQuery, agentReboot, defineGuest, type LabGuest, waitForAgent } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { waitFor } from './run.js';

const postgres = startPrivateCluster();
const started = Date.now();
/** Where the time goes, on stderr as the test runs. */
const step = (what: string) =>
  process.stderr.write(`watch-replicas +${Math.round((Date.now() - started) / 1000)} s: ${what}\n`);
test.after.always('stop PostgreSQL', () => postgres.stop());
// A worker ended by ava's timeout runs no hooks: stop the cluster on the way out all the same.
process.once('exit', () => postgres.stop());
const lab = useMigrationLab(test, { config: `store:\n  url: ${postgres.url}\n` });

interface LeaseJson {
  hostLeases: { host: string; pid: number; machine: string; expiresAt: string }[];
}

/** Which replica pid holds each lab host, from `rehome status --json` (live leases only). */
async function leaseHolders(): Promise<Record<string, number>> {
  const { hostLeases } = await rehomeJson<LeaseJson>(['status']);
  const now = Date.now();
  return Object.fromEntries(
    hostLeases.filter((lease) => Date.parse(lease.expiresAt) > now).map((lease) => [lease.host, lease.pid]),
  );
}

/** The replica's process is `env … rehome watch` in the operator namespace: find the node pid under it by its log. */
async function replicaPid(replica: Background): Promise<number> {
  return waitFor(
    'the replica to say which hosts it holds',
    async () => {
      const match = /watch pid (\d+)/.exec(await replica.log());
      return match ? Number(match[1]) : undefined;
    },
    60_000,
    200,
  );
}

/** A replica's resident memory (MiB), for docs/scaling.md. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

/** The store connections the replicas hold on the server (application_name rehome). */
async function storeConnections(): Promise<number> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'rehome'",
    );
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

async function bootOn(name: string, host: string): Promise<LabGuest> {
  const guest = await defineGuest(name, { host });
  lab.adopt(guest);
  await waitForAgent(guest.ip, { timeoutMs: 180_000 });
  return guest;
}

async function cutoversOf(vm: string): Promise<number> {
  const { migrations } = await rehomeJson<{
    migrations: { history?: { step: string; outcome: string }[] }[];
  }>(['status', vm]);
  return migrations
    .flatMap((m) => m.history ?? [])
    .filter((h) => h.step === 'start-target' && h.outcome === 'ok').length;
}

test.serial(
  'kill -9 of one replica: the other claims its host, all six guests move, each exactly once',
  async (t) => {
    const placed: [string, string, string][] = [
      ['rp1', 'lab-a', 'lab-b'],
      ['rp2', 'lab-a', 'lab-b'],
      ['rp3', 'lab-a', 'lab-b'],
      ['rp4', 'lab-b', 'lab-a'],
      ['rp5', 'lab-b', 'lab-a'],
      ['rp6', 'lab-b', 'lab-a'],
    ];
    step('booting six guests');
    const guests = await Promise.all(placed.map(([name, host]) => bootOn(name, host)));
    step('arming them');
    await Promise.all(placed.map(([name, , target]) => rehomeJson(['migrate', name, '--to', target])));

    const a = await lab.startRehome(['watch']);
    const b = await lab.startRehome(['watch']);
    const pids = [await replicaPid(a), await replicaPid(b)];
    const split = await waitFor(
      'the two replicas to hold one host each',
      async () => {
        const holders = await leaseHolders();
        const owners = [holders['lab-a'], holders['lab-b']];
        return owners.every((pid) => pid !== undefined && pids.includes(pid)) && owners[0] !== owners[1]
          ? holders
          : undefined;
      },
      60_000,
      500,
    );
    t.log(`leases: ${JSON.stringify(split)} (replicas ${pids.join(', ')})`);
    t.log(
      `one host each: RSS ${await rssMiB(pids[0] as number)} and ${await rssMiB(pids[1] as number)} MiB; ${await storeConnections()} store connections for both`,
    );

    const victim = split['lab-a'] === pids[0] ? a : b;
    const survivor = victim === a ? b : a;
    const survivorPid = victim === a ? pids[1] : pids[0];
    victim.kill9();
    const killedAt = Date.now();
    await waitFor(
      'the survivor to hold lab-a too',
      async () => {
        const holders = await leaseHolders();
        return holders['lab-a'] === survivorPid && holders['lab-b'] === survivorPid ? true : undefined;
      },
      30_000,
      300,
    );
    await survivor.waitForLog(/listening to lab-a/);
    const claimedMs = Date.now() - killedAt;
    t.true(claimedMs < 15_000, `lab-a claimed ${claimedMs} ms after the kill (one lease is 15 s)`);
    t.log(
      `lab-a claimed ${claimedMs} ms after the kill; the survivor, both hosts: RSS ${await rssMiB(survivorPid as number)} MiB`,
    );
    step('rebooting all six');

    const before = await Promise.all(guests.map((guest) => agentQuery(guest.ip)));
    await Promise.all(guests.map((guest) => agentReboot(guest.ip)));
    for (const [name] of placed) {
      const phase = await waitForPhase(name, ['done', 'rolled-back', 'failed'], 180_000).catch(
        async (err: Error) => {
          // What the guest itself printed tells a reboot that never happened from one nobody caught.
          t.log(`${name}: ${err.message}; its console:\n${await consoleTails(name, ['lab-a', 'lab-b'], 15)}`);
          return 'timed out';
        },
      );
      t.is(phase, 'done', await survivor.log());
    }
    for (const [i, [name, , target]] of placed.entries()) {
      t.is(await cutoversOf(name), 1, `${name}: one cutover in its history`);
      await assertGuestOn(t, guests[i] as LabGuest, target, (before[i]?.boot ?? 0) + 1);
    }
  },
);

test.serial(
  'SIGSTOP mid-cutover past the lease: the other replica finishes, the resumed one does nothing',
  async (t) => {
    step('test 2: booting rp7');
    const guest = await bootOn('rp7', 'lab-a');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    // Replica A alone first, so that it holds lab-a; it holds before destroy-source for 20 s, and is stopped there.
    const a = await lab.startRehome(['watch'], {
      REHOME_FAULT_HOLD_BEFORE: 'destroy-source',
      REHOME_FAULT_HOLD_MS: '20000',
    });
    const aPid = await replicaPid(a);
    await a.waitForLog(/listening to lab-a/);
    const before = await agentQuery(guest.ip);
    await agentReboot(guest.ip);
    await a.waitForLog(/holding before destroy-source/, 120_000);
    process.kill(aPid, 'SIGSTOP');
    step('replica A stopped before destroy-source');
    let b: Background | undefined;
    try {
      b = await lab.startRehome(['watch', '--reconcile-interval', '5']);
      const bPid = await replicaPid(b);
      await waitFor(
        'replica B to hold lab-a',
        async () => ((await leaseHolders())['lab-a'] === bPid ? true : undefined),
        60_000,
        500,
      );
      // The VM's lock (120 s lease) expires next; B's reconcile then takes it over and finishes the cutover.
      t.is(await waitForPhase(guest.name, ['done', 'rolled-back', 'failed'], 240_000), 'done', await b.log());
    } finally {
      process.kill(aPid, 'SIGCONT');
    }
    await a.waitForLog(/Lost the lock on VM|no longer held/, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    t.is(await phaseOf(guest.name), 'done');
    t.is(await cutoversOf(guest.name), 1, 'one cutover in the history');
    t.notRegex(await a.log(), /destroy-source: (start|done)/, 'the stopped replica did not go on');
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);
  },
);

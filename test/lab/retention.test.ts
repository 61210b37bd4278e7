import test from 'ava';
import { assertGuestOn, rehome, rehomeJson } from './helpers-migration.js';
import { agentQuery, labSh } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { sleep } from './run.js';

/** 0.01 h = 36 s: long enough to check "not before", short enough to wait out. */
const RETENTION_HOURS = 0.01;

interface StatusJson {
  migrations: {
    phase: string;
    retained: { host: string; paths: string[]; until: string; removedAt?: string } | null;
  }[];
}

interface ReconcileJson {
  entries: { vm: string; action: string; reason: string }[];
}

const lab = useMigrationLab(test, { config: `migration:\n  retentionHours: ${RETENTION_HOURS}\n` });

async function exists(host: string, file: string): Promise<boolean> {
  return (await labSh(['ssh', host, `test -e ${file}`], { reject: false })).exitCode === 0;
}

async function retentionEntries(vm: string) {
  const result = await rehomeJson<ReconcileJson>(['reconcile']);
  return result.entries.filter((entry) => entry.vm === vm && entry.action === 'retention');
}

test.serial(
  'reconcile removes the source disks after a move once the retention time passed, not before',
  async (t) => {
    const guest = await lab.bootedGuest('rt1');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    const before = await agentQuery(guest.ip);
    const moved = await rehomeJson<{ outcome: string }>(['reboot', guest.name]);
    t.is(moved.outcome, 'done');

    // Read the retention right after the move, while its 36 s have far to run; the guest's own checks, which wait
    // for its boot on lab-b (slow under load), come once the "not before" half is done.
    const retained = (await rehomeJson<StatusJson>(['status', guest.name])).migrations.at(-1)?.retained;
    if (!retained) throw new Error('no retained disks recorded');
    t.is(retained.host, 'lab-a');
    const [sourceDisk] = retained.paths;
    if (!sourceDisk) throw new Error('no retained path');
    const until = Date.parse(retained.until);
    const left = until - Date.now();
    t.true(
      left > 10_000 && left <= RETENTION_HOURS * 3600_000,
      `retained until ${retained.until} (${left} ms left)`,
    );
    t.true(await exists('lab-a', sourceDisk), 'the source disk is kept after the move');

    t.deepEqual(await retentionEntries(guest.name), [], 'nothing removed before the retention time');
    t.true(await exists('lab-a', sourceDisk), 'still there after a reconcile before the time');
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);

    await sleep(Math.max(0, until - Date.now()) + 1000);
    const removed = await retentionEntries(guest.name);
    t.is(removed.length, 1, JSON.stringify(removed));
    t.false(await exists('lab-a', sourceDisk), 'removed once the time passed');
    const after = (await rehomeJson<StatusJson>(['status', guest.name])).migrations.at(-1)?.retained;
    t.truthy(after?.removedAt, 'the record says when');
    t.deepEqual(await retentionEntries(guest.name), [], 'a second pass removes nothing more');
    await rehome(['status', guest.name]);
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);
  },
);

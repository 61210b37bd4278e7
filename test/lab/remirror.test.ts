import test from 'ava';
import { assertGuestOn, domUuid, phaseOf, rehomeJson, waitForPhase } from './helpers-migration.js';
import { agentQuery, agentReboot, virsh, waitForAgent, whereRuns } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { waitFor } from './run.js';

interface ReconcileJson {
  entries: { vm: string; action: string; phaseAfter: string; reason: string }[];
}

const lab = useMigrationLab(test);

async function reconcileEntry(vm: string) {
  const result = await rehomeJson<ReconcileJson>(['reconcile', '--vm', vm]);
  return result.entries.find((entry) => entry.vm === vm);
}

async function blockJob(host: string, vm: string): Promise<string> {
  const result = await virsh(host, ['blockjob', vm, 'vda', '--info'], { reject: false });
  return `${result.stdout}${result.stderr}`.trim();
}

test.serial(
  'a VM powered off while armed is not moved; reconcile keeps tracking it, re-mirrors it when it runs again, and it moves at its next reboot',
  async (t) => {
    const guest = await lab.bootedGuest('rm1');
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    t.regex(await blockJob('lab-a', guest.name), /Block Copy/, 'mirroring while armed');

    await virsh('lab-a', ['shutdown', guest.name]);
    await waitFor(
      'rm1 shut off on lab-a',
      async () =>
        (await virsh('lab-a', ['domstate', guest.name])).stdout.trim() === 'shut off' ? true : undefined,
      60_000,
      200,
    );
    t.deepEqual(await whereRuns(guest.name), [], 'powered off by its owner: runs nowhere');
    t.is(await domUuid('lab-b', guest.name), undefined, 'not moved: nothing defined on the target');

    const marked = await reconcileEntry(guest.name);
    t.is(marked?.action, 'mirror-lost', JSON.stringify(marked));
    t.is(marked?.phaseAfter, 'mirror-lost');
    const again = await reconcileEntry(guest.name);
    t.is(again?.action, 'none', 'a second pass leaves an off VM alone');
    t.is(await phaseOf(guest.name), 'mirror-lost', 'still tracked while off');

    const beforeStart = await agentQuery(guest.ip).catch(() => undefined);
    t.is(beforeStart, undefined, 'the agent is down while the VM is off');
    await virsh('lab-a', ['start', guest.name]);
    await waitForAgent(guest.ip, { minBoot: 2 });
    const restored = await reconcileEntry(guest.name);
    t.is(restored?.action, 'remirror', JSON.stringify(restored));
    t.is(restored?.phaseAfter, 'armed');
    t.is(await phaseOf(guest.name), 'armed');
    t.regex(await blockJob('lab-a', guest.name), /Block Copy/, 'a block job exists on the source again');
    t.deepEqual(await whereRuns(guest.name), ['lab-a']);

    const watch = await lab.startRehome(['watch']);
    await watch.waitForLog(/listening to lab-a/);
    const before = await agentQuery(guest.ip);
    await agentReboot(guest.ip);
    t.is(await waitForPhase(guest.name, ['done', 'rolled-back', 'failed']), 'done', await watch.log());
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);
    t.is(await domUuid('lab-a', guest.name), undefined, 'the source domain is undefined');
  },
);

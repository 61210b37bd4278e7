import test, { type ExecutionContext } from 'ava';
import { migrateAndReboot, reconcileUntilQuiet, untilEndOrCrash } from '../fake/crash.js';
import { IMAGE_DIR, Lab } from '../fake/engine-harness.js';
import { assertArmed, assertMoved, assertNeverTwoCopies, assertRolledBack } from '../fake/invariants.js';
import { migrate } from '../fake/src-imports.js';

/**
 * `kill -9` at every hypervisor call of a whole move (migrate, then reboot and cutover), before the call acts and
 * after it acted but before its answer; then `rehome reconcile` from the store and the hosts alone. Whatever the
 * point, the guest never runs twice and ends running somewhere, in a state its phase describes.
 */

async function callsOfAWholeMove(): Promise<number> {
  const lab = new Lab({ teardown: () => {} });
  const process = lab.process('count');
  await migrateAndReboot(process);
  await lab.store.close();
  return process.session.calls;
}

const totalCalls = await callsOfAWholeMove();

function assertRunsSomewhere(t: ExecutionContext, lab: Lab): void {
  const active = lab.fake.whereIs(lab.guest.uuid).filter((place) => place.state === 'running');
  t.is(active.length, 1, `the guest runs on ${active.length} hosts`);
}

test('a whole move makes a fixed number of hypervisor calls', (t) => {
  t.true(totalCalls > 50, `only ${totalCalls} calls`);
});

for (let call = 1; call <= totalCalls; call++) {
  for (const when of ['before', 'after'] as const) {
    test(`crash ${when} hypervisor call ${call} of ${totalCalls}, then reconcile`, async (t) => {
      const lab = new Lab(t);
      const victim = lab.process('victim');
      victim.session.crashAtCall(call, when);
      const ended = await untilEndOrCrash(victim, migrateAndReboot(victim));
      t.is(ended, 'crashed');
      const record = await reconcileUntilQuiet(lab);
      assertNeverTwoCopies(t, lab);
      assertRunsSomewhere(t, lab);
      if (!record) {
        t.deepEqual(
          [...lab.fake.host('dst').files.keys()],
          [],
          'crashed before any record, yet files on the target',
        );
        return;
      }
      switch (record.phase) {
        case 'done':
          return assertMoved(t, lab, record);
        case 'rolled-back':
          return assertRolledBack(t, lab, record);
        case 'armed':
          return assertArmed(t, lab, record);
        default:
          t.fail(`left in phase ${record.phase}: ${record.lastError}`);
      }
    });
  }
}

/** Two disks, so that a crash can fall between one export journaled and the next one's image created. */
async function callsOfATwoDiskMigrate(): Promise<number> {
  const lab = new Lab({ teardown: () => {} }, { disks: 2 });
  const process = lab.process('count');
  await migrate(process.rt, { vm: 'vm1', to: 'dst' }, () => {});
  await lab.store.close();
  return process.session.calls;
}

const twoDiskCalls = await callsOfATwoDiskMigrate();

for (let call = 1; call <= twoDiskCalls; call++) {
  for (const when of ['before', 'after'] as const) {
    test(`two disks: crash ${when} call ${call} of ${twoDiskCalls} of migrate, then reconcile`, async (t) => {
      const lab = new Lab(t, { disks: 2 });
      const victim = lab.process('victim');
      victim.session.crashAtCall(call, when);
      const flow = migrate(victim.rt, { vm: 'vm1', to: 'dst' }, () => {});
      t.is(await untilEndOrCrash(victim, flow), 'crashed');
      const record = await reconcileUntilQuiet(lab);
      assertNeverTwoCopies(t, lab);
      if (!record) {
        t.deepEqual([...lab.fake.host('dst').files.keys()], []);
        return;
      }
      if (record.phase === 'rolled-back') return assertRolledBack(t, lab, record);
      assertArmed(t, lab, record);
    });
  }
}

test('an image on the target that this migration did not create is never touched', async (t) => {
  const lab = new Lab(t);
  const foreign = `${IMAGE_DIR}/vm1-vda.qcow2`;
  lab.fake.host('dst').files.set(foreign, { kind: 'image', virtualSize: 1 << 20, data: 'someone else' });
  await t.throwsAsync(lab.arm(), { message: /already exists on dst; rehome will not overwrite it/ });
  t.is((await lab.migration()).phase, 'rolled-back');
  await reconcileUntilQuiet(lab);
  t.is(lab.fake.host('dst').image(foreign)?.data, 'someone else');
  t.deepEqual(lab.fake.host('dst').liveExports(), []);
});

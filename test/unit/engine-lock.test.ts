import test from 'ava';
import '../fake/crash.js';
import { reconcileUntilQuiet } from '../fake/crash.js';
import { Lab } from '../fake/engine-harness.js';
import { assertMoved } from '../fake/invariants.js';
import { rebootNow, reconcile } from '../fake/src-imports.js';

/**
 * Lock loss mid-cutover. The cutover holds the VM's lock; a second process judges the holder dead and takes the lock
 * over while the first one is between two cutover steps. The first one must stop there: its runner confirms the lock
 * before each step, and every phase write it makes is fenced by its lock token, so the write of the step in flight
 * fails with LockLostError and it neither goes on nor rolls back. The second one alone decides and finishes.
 */
const cases = [
  // The second process observes the mirror jobs ended but `converged` not yet journaled: it rolls back, and the
  // first one, refused at its next write, never sets the NIC links down behind it.
  { stepName: 'converge', previous: 'pause', final: 'rolled-back', action: 'rollback' },
  // Past the convergence the second one goes forward and finishes; the first one stops.
  { stepName: 'destroy-source', previous: 'links-down', final: 'done', action: 'forward' },
  { stepName: 'define-target', previous: 'close-export', final: 'done', action: 'forward' },
  { stepName: 'start-target', previous: 'move-dhcp', final: 'done', action: 'forward' },
  { stepName: 'verify', previous: 'start-target', final: 'done', action: 'forward' },
] as const;

for (const { stepName, previous, final: expected, action } of cases) {
  test(`the lock is taken over before ${stepName}: the first process stops, the second finishes`, async (t) => {
    const lab = new Lab(t);
    await lab.arm();
    const first = lab.process('reboot');
    let second: Promise<unknown> | undefined;
    const sink = (event: (typeof first.events)[number]) => {
      first.events.push(event);
      if (second || event.step !== previous || (event.status !== 'done' && event.status !== 'skip')) return;
      lab.declareDead(first.session.pid);
      const other = lab.process('reconcile');
      second = reconcile(other.rt, () => {});
    };
    const firstOutcome = await rebootNow(first.rt, { vm: 'vm1' }, sink).then(
      (result) => result.outcome,
      (err: Error) => err.name,
    );
    const secondEntries = (await second) as { action: string; phaseAfter: string }[];
    t.is(firstOutcome, 'LockLostError');
    t.like(secondEntries, [{ action, phaseAfter: expected }]);
    const final = await reconcileUntilQuiet(lab);
    t.is(final?.phase, expected);
    if (!final) return;
    if (expected === 'done') assertMoved(t, lab, final);
    else {
      const onSource = lab.fake.host('src').domainByUuid(lab.guest.uuid);
      t.is(onSource?.state, 'running');
      t.deepEqual([...(onSource?.links.values() ?? [])], ['up'], 'the stopped process left the links alone');
    }
    const audit = await lab.store.listAudit({ vm: lab.guest.uuid });
    t.true(audit.some((entry) => entry.step === 'lock-takeover'));
    t.false(
      audit.some((entry) => entry.outcome === 'error' && entry.step === stepName),
      'the first process journaled no failure of the step it was stopped in',
    );
  });
}

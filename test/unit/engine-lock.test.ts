import test from 'ava';
import '../fake/crash.js';
import { reconcileUntilQuiet } from '../fake/crash.js';
import { Lab } from '../fake/engine-harness.js';
import { assertMoved } from '../fake/invariants.js';
import { rebootNow, reconcile } from '../fake/src-imports.js';

/**
 * Lock loss mid-cutover. The cutover holds the VM's lock; a second process judges the holder dead and takes the lock
 * over while the first one is stalled between two cutover steps (every call it makes waits until the second is done). The first one must stop there: its runner confirms the lock
 * before each step, and every phase write it makes is fenced by its lock token, so the write of the step in flight
 * fails with LockLostError and it neither goes on nor rolls back. The second one alone decides and finishes.
 */
const cases = [
  // The second process finds the guest paused with its mirror intact: it finishes the move; the first one, refused
  // at its next call, neither converges nor sets the NIC links down behind it.
  { stepName: 'converge', previous: ['pause'] },
  // Past the convergence the second one goes forward and finishes; the first one stops.
  { stepName: 'destroy-source', previous: ['converge', 'links-down'] },
  { stepName: 'define-target', previous: ['converge'] },
  // start-target follows three branches run side by side: the takeover comes once all of them ended.
  { stepName: 'start-target', previous: ['carry-firmware', 'close-export', 'move-dhcp'] },
  { stepName: 'verify', previous: ['start-target'] },
] as const;

for (const { stepName, previous } of cases) {
  test(`the lock is taken over before ${stepName}: the first process stops, the second finishes`, async (t) => {
    const lab = new Lab(t);
    await lab.arm();
    const first = lab.process('reboot');
    let second: Promise<unknown> | undefined;
    const ended = new Set<string>();
    const sink = (event: (typeof first.events)[number]) => {
      first.events.push(event);
      if (event.status === 'done' || event.status === 'skip') ended.add(event.step);
      if (second || !previous.every((step: string) => ended.has(step))) return;
      lab.declareDead(first.session.pid);
      const other = lab.process('reconcile');
      second = reconcile(other.rt, () => {});
      // The first process stalls here (its other branches too, at their next call) until the second is done.
      first.session.stallUntil(second);
    };
    const firstOutcome = await rebootNow(first.rt, { vm: 'vm1' }, sink).then(
      (result) => result.outcome,
      (err: Error) => err.name,
    );
    const secondEntries = (await second) as { action: string; phaseAfter: string }[];
    t.log(
      JSON.stringify(
        (await lab.store.listAudit({ vm: lab.guest.uuid })).map((e) => [e.step, e.outcome, e.detail]),
      ),
    );
    t.is(firstOutcome, 'LockLostError');
    t.like(secondEntries, [{ action: 'forward', phaseAfter: 'done' }]);
    const final = await reconcileUntilQuiet(lab);
    t.is(final?.phase, 'done');
    if (final) assertMoved(t, lab, final);
    const audit = await lab.store.listAudit({ vm: lab.guest.uuid });
    t.true(audit.some((entry) => entry.step === 'lock-takeover'));
    t.false(
      audit.some((entry) => entry.outcome === 'error' && entry.step === stepName),
      'the first process journaled no failure of the step it was stopped in',
    );
  });
}

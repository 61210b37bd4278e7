import test from 'ava';
import {
  decideRecovery,
  type RecoveryAction,
  type RecoveryInput,
} from '../../src/migration/services/recovery.js';

const base: RecoveryInput = {
  phase: 'cutover',
  source: 'paused',
  target: 'missing',
  jobs: true,
  exportsAlive: true,
  converged: false,
};

const table: [Partial<RecoveryInput>, RecoveryAction][] = [
  // cutover, killed before or during converge: the guest is paused, the mirror intact → finish the move
  [{}, 'forward'],
  [{ jobs: false, exportsAlive: true, converged: true }, 'forward'],
  // paused, mirror broken and never converged → back to the source
  [{ jobs: false, exportsAlive: false }, 'rollback'],
  [{ jobs: true, exportsAlive: false }, 'rollback'],
  // someone resumed it with its mirror intact → armed again
  [{ source: 'running' }, 'rearm'],
  [{ source: 'running', jobs: false }, 'rollback'],
  // destroyed after converging (crash before the phase moved) → finish
  [{ source: 'shutoff', jobs: false, converged: true }, 'forward'],
  [{ phase: 'switching', source: 'shutoff', jobs: false, exportsAlive: false, converged: true }, 'forward'],
  // shut off without convergence → start it again on the source
  [{ source: 'shutoff', jobs: false, converged: false }, 'rollback'],
  // already started on the target → finish (verify, release the source)
  [{ phase: 'switching', source: 'shutoff', target: 'running', converged: true }, 'forward'],
  [{ phase: 'verifying', source: 'missing', target: 'running', converged: true }, 'forward'],
  // both sides live: never decide alone
  [{ source: 'paused', target: 'running' }, 'operator'],
  [{ source: 'running', target: 'paused' }, 'operator'],
  // neither side
  [{ source: 'missing', target: 'missing' }, 'operator'],
  [{ phase: 'rolling-back', source: 'shutoff', converged: true }, 'rollback'],
  // armed: health
  [{ phase: 'armed', source: 'running' }, 'none'],
  [{ phase: 'armed', source: 'shutoff', jobs: false }, 'mirror-lost'],
  [{ phase: 'armed', source: 'running', jobs: false }, 'remirror'],
  [{ phase: 'armed', source: 'paused' }, 'resume'],
  [{ phase: 'mirror-lost', source: 'shutoff', jobs: false }, 'none'],
  [{ phase: 'mirror-lost', source: 'running', jobs: false }, 'remirror'],
  [{ phase: 'preparing', source: 'running', jobs: false, exportsAlive: false }, 'continue-prepare'],
  [{ phase: 'preparing', source: 'shutoff', jobs: false }, 'rollback'],
  [{ phase: 'mirroring', source: 'running' }, 'continue-prepare'],
  [{ phase: 'done', source: 'missing', target: 'running' }, 'none'],
];

for (const [overrides, expected] of table) {
  const input = { ...base, ...overrides };
  test(`${input.phase}: source ${input.source}, target ${input.target}, jobs ${input.jobs}, exports ${input.exportsAlive}, converged ${input.converged} → ${expected}`, (t) => {
    const decision = decideRecovery(input);
    t.is(decision.action, expected, decision.reason);
    t.truthy(decision.reason);
  });
}

test('never forward while the source has a live QEMU and the target runs', (t) => {
  for (const source of ['running', 'paused', 'other'] as const) {
    for (const phase of ['cutover', 'switching', 'verifying', 'armed'] as const) {
      t.is(decideRecovery({ ...base, phase, source, target: 'running' }).action, 'operator');
    }
  }
});

test('a source shut off without a converged mirror is never finished on the target', (t) => {
  for (const phase of ['cutover', 'switching', 'verifying'] as const) {
    for (const exportsAlive of [true, false]) {
      t.not(
        decideRecovery({ ...base, phase, source: 'shutoff', jobs: false, exportsAlive, converged: false })
          .action,
        'forward',
      );
    }
  }
});

test('a reason says what was observed: a finished but unjournaled converge is not called a broken mirror', (t) => {
  // kill -9 during converge: the job ended (complete), the crash came before `converged` was written.
  const unjournaled = decideRecovery({ ...base, jobs: false, exportsAlive: true, converged: false });
  t.is(unjournaled.action, 'rollback');
  t.notRegex(unjournaled.reason, /mirror is broken/);
  t.regex(unjournaled.reason, /block job has ended and the journal does not record that it converged/);
  t.regex(
    unjournaled.reason,
    /observed: source paused, target missing, block jobs gone, exports alive, journal: not converged/,
  );
  const exportGone = decideRecovery({ ...base, jobs: true, exportsAlive: false });
  t.regex(exportGone.reason, /export is gone.*observed: .*block jobs present, exports gone/);
  // Nothing to do needs no inventory.
  t.is(decideRecovery({ ...base, phase: 'armed', source: 'running' }).reason, 'armed, mirror intact');
});

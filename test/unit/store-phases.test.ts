import test from 'ava';
import {
  ACTIVE_PHASES,
  canTransition,
  isPhase,
  isTerminalPhase,
  PHASE_TRANSITIONS,
  PHASES,
  type Phase,
  TERMINAL_PHASES,
} from '../../src/store/phases.js';
import { SQLITE_SCHEMA } from '../../src/store/sqlite/schema.js';

test('phases are unique and every transition leads to a known phase', (t) => {
  t.is(new Set(PHASES).size, PHASES.length);
  for (const [from, targets] of Object.entries(PHASE_TRANSITIONS)) {
    t.true(isPhase(from), from);
    for (const to of targets) t.true(isPhase(to), `${from} → ${to}`);
  }
  t.deepEqual(Object.keys(PHASE_TRANSITIONS).sort(), [...PHASES].sort());
});

test('terminal phases have no way out, and active ones are the rest', (t) => {
  for (const phase of TERMINAL_PHASES) t.deepEqual(PHASE_TRANSITIONS[phase], [], phase);
  t.deepEqual([...ACTIVE_PHASES, ...TERMINAL_PHASES].sort(), [...PHASES].sort());
  t.false(isTerminalPhase('failed'), 'a failed migration still holds its VM until an operator resolves it');
});

test('every active phase can reach a terminal phase', (t) => {
  for (const start of ACTIVE_PHASES) {
    const seen = new Set<Phase>([start]);
    const queue: Phase[] = [start];
    while (queue.length > 0) {
      const phase = queue.shift() as Phase;
      for (const next of PHASE_TRANSITIONS[phase]) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    t.true(
      [...seen].some((p) => isTerminalPhase(p)),
      `${start} is a dead end`,
    );
  }
});

test('the engine paths of issue 4 are legal moves', (t) => {
  const happy: Phase[] = [
    'planned',
    'preparing',
    'mirroring',
    'armed',
    'cutover',
    'switching',
    'verifying',
    'done',
  ];
  for (let i = 1; i < happy.length; i++) t.true(canTransition(happy[i - 1] as Phase, happy[i] as Phase));
  t.true(canTransition('cutover', 'armed'), 'pause bound exceeded: boots in place, stays armed');
  t.true(canTransition('armed', 'mirror-lost'), 'VM powered off while armed');
  t.true(canTransition('mirror-lost', 'mirroring'), 'mirror comes back when the VM runs again');
  t.true(canTransition('switching', 'rolling-back'), 'target cannot start the domain');
  t.true(canTransition('armed', 'cancelling'));
  t.false(canTransition('done', 'rolling-back'));
  t.false(canTransition('verifying', 'cancelling'), 'no cancel once the source is gone');
  t.false(canTransition('planned', 'planned'));
});

test('the schema’s one-active-per-VM index lists exactly the terminal phases', (t) => {
  const sql = SQLITE_SCHEMA.map((s) => s.sql).join('\n');
  const match = /migrations_one_active_per_vm[\s\S]*?NOT IN \(([^)]*)\)/.exec(sql);
  t.truthy(match);
  const listed = (match?.[1] ?? '').split(',').map((s) => s.trim().replace(/'/g, ''));
  t.deepEqual(listed.sort(), [...TERMINAL_PHASES].sort());
});

test('schema steps are numbered 1, 2, 3… without gaps', (t) => {
  t.deepEqual(
    SQLITE_SCHEMA.map((s) => s.version),
    SQLITE_SCHEMA.map((_, i) => i + 1),
  );
});

import test from 'ava';
import { ExitCode, exitCodeForKind } from '../../src/cli/exit-codes.js';
import { suggestionsFor } from '../../src/cli/suggestions.js';
import { ERROR_KINDS, RehomeError } from '../../src/errors.js';

test('each error kind has the exit code README documents', (t) => {
  const expected = {
    'invalid-input': 2,
    config: 3,
    unreachable: 4,
    'host-key': 5,
    libvirt: 6,
    locked: 7,
    'not-found': 8,
    'migration-failed': 9,
    blocked: 10,
    internal: 1,
  };
  t.deepEqual(Object.keys(expected).sort(), [...ERROR_KINDS].sort());
  for (const kind of ERROR_KINDS) t.is(exitCodeForKind(kind), expected[kind], kind);
  t.is(ExitCode.blocked, 10);
});

test('suggestions are the error’s hints, then the commands for its situation', (t) => {
  const err = new RehomeError('VM web 1 has no active migration', 'not-found', ['a hint'], {
    subject: { code: 'no-active-migration', vm: 'web 1' },
  });
  t.deepEqual(suggestionsFor(err), ['a hint', 'rehome migrate web 1 --to HOST']);
});

test('an error without a situation code keeps only its hints', (t) => {
  t.deepEqual(suggestionsFor(new RehomeError('bad', 'config', ['set x'])), ['set x']);
  t.deepEqual(suggestionsFor(new RehomeError('bad', 'config', [], { subject: { code: 'nonesuch' } })), []);
});

test('the undo-failed advice names both hosts', (t) => {
  const err = new RehomeError('web: undo failed', 'migration-failed', [], {
    subject: { code: 'undo-failed', vm: 'web', host: 'hv1', otherHost: 'hv2' },
  });
  t.regex(suggestionsFor(err).join('\n'), /on hv1 and hv2.*rehome reconcile/);
});

import { readFile } from 'node:fs/promises';
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
    environment: 11,
    internal: 1,
  };
  t.deepEqual(Object.keys(expected).sort(), [...ERROR_KINDS].sort());
  for (const kind of ERROR_KINDS) t.is(exitCodeForKind(kind), expected[kind], kind);
  t.is(ExitCode.blocked, 10);
});

test('README’s exit code table lists every code, and its --json kinds match', async (t) => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Exit codes'));
  const documented = [...section.matchAll(/^\| (\d+) +\|/gm)].map((match) => Number(match[1]));
  t.deepEqual(
    documented,
    [...new Set(Object.values(ExitCode))].sort((a, b) => a - b),
  );
  for (const kind of ERROR_KINDS) t.true(section.includes(`\`${kind}\` (${exitCodeForKind(kind)})`), kind);
});

test('suggestions are the error’s hints, then the commands for its situation', (t) => {
  const err = new RehomeError('VM web 1 has no active migration', 'not-found', ['a hint'], {
    subject: { code: 'no-active-migration', vm: 'web 1' },
  });
  t.deepEqual(suggestionsFor(err), ['a hint', 'rehome status web 1 shows its past migrations']);
  t.notRegex(
    suggestionsFor(err).join('\n'),
    /rehome migrate/,
    'cancel of a VM without a migration does not suggest one',
  );
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

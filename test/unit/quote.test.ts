import test from 'ava';
import { execa } from 'execa';
import { quoteArg, quoteArgv } from '../../src/host/quote.js';

const hostile = [
  'plain',
  'with space',
  "it's",
  `it's a "test" $(touch rehome-pwned)`,
  '`touch rehome-pwned`',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal shell expansion is the point
  '$HOME ${PATH} $((1+1))',
  'line1\nline2',
  '',
  '-n',
  '--rm -rf /',
  'ünïcødé ✓ 日本',
  "'",
  "''",
  '\\',
  '*',
  '~',
  'a;b|c&d>e<f',
  'FOO=bar',
  '!event',
  '\t\r',
];

test('each hostile argument reaches a real POSIX shell unchanged', async (t) => {
  // printf '%s\0' prints each argument NUL-terminated, so the split gives back exactly what the shell passed.
  const command = quoteArgv(['printf', '%s\\0', ...hostile]);
  const { stdout } = await execa('sh', ['-c', command], { cwd: '/tmp', stripFinalNewline: false });
  t.deepEqual(stdout.split('\0').slice(0, -1), hostile);
});

test('the first word is not taken as an assignment', async (t) => {
  const { stdout } = await execa('sh', ['-c', `${quoteArgv(['FOO=bar', 'x'])} 2>&1 || true`]);
  t.regex(stdout, /FOO=bar.*not found/);
});

test('safe words stay readable, everything else is single-quoted', (t) => {
  t.is(quoteArgv(['virsh', 'dumpxml', '--inactive', 'vm-1']), 'virsh dumpxml --inactive vm-1');
  t.is(quoteArg(''), "''");
  t.is(quoteArg("it's"), `'it'\\''s'`);
  t.is(quoteArg('$(x)'), `'$(x)'`);
});

test('NUL is refused, and so is an empty argv', (t) => {
  t.throws(() => quoteArgv(['echo', 'a\0b']), { message: /NUL/ });
  t.throws(() => quoteArgv([]), { message: /empty/ });
});

import test from 'ava';
import { execa } from 'execa';
import { CUED_SHELL_ARGV, cueFor } from '../../src/host/cued-shell.js';
import { quoteArg, quoteArgv, quoteArgvOneLine } from '../../src/host/quote.js';

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
  '\n\n',
  `'"$nl"'`,
];

test('each hostile argument reaches a real POSIX shell unchanged', async (t) => {
  // printf '%s\0' prints each argument NUL-terminated, so the split gives back exactly what the shell passed.
  const command = quoteArgv(['printf', '%s\\0', ...hostile]);
  const { stdout } = await execa('sh', ['-c', command], { cwd: '/tmp', stripFinalNewline: false });
  t.deepEqual(stdout.split('\0').slice(0, -1), hostile);
});

test('a cued shell reads its command as one line and runs each hostile argument unchanged, stdin after it', async (t) => {
  t.false(quoteArgvOneLine(['printf', ...hostile]).includes('\n'));
  const [shell, ...args] = CUED_SHELL_ARGV as [string, ...string[]];
  const argv = ['sh', '-c', 'printf "%s\\0" "$@"; cat', 'sh', ...hostile];
  const { stdout } = await execa(shell, args, {
    cwd: '/tmp',
    input: cueFor(argv, 'stdin follows\n'),
    stripFinalNewline: false,
  });
  const printed = stdout.split('\0');
  t.deepEqual(printed.slice(0, -1), hostile);
  t.is(printed.at(-1), 'stdin follows\n');
});

test('a cued shell that gets EOF before its line exits 125 and runs nothing', async (t) => {
  const [shell, ...args] = CUED_SHELL_ARGV as [string, ...string[]];
  const result = await execa(shell, args, { input: '', reject: false });
  t.is(result.exitCode, 125);
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

/**
 * Through the CLI (bin/dev.js), the conventions operators expect: help, completion, unknown commands, config
 * strictness and its errors, and this machine's own failures as exit 11 with a sentence.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { runRehome } from '../helpers/rehome-cli.js';

const root = new URL('../../', import.meta.url).pathname;
const freshDir = () => mkdtempSync(join(tmpdir(), 'rehome-conv-'));

const rehome = (dir: string, ...args: string[]) => runRehome({ configDir: dir, cacheDir: dir }, args);

const errorOf = (stdout: string) => (JSON.parse(stdout) as { error: Record<string, unknown> }).error;

test('help as a command and as -h; completion setup; a mistyped command exits 127, in JSON under --json', async (t) => {
  const dir = freshDir();
  const [help, short, completion, typo, typoJson] = await Promise.all([
    rehome(dir, 'help', 'hosts', 'cordon'),
    rehome(dir, 'hosts', 'cordon', '-h'),
    rehome(dir, 'autocomplete', 'bash'),
    rehome(dir, 'hots', 'list'),
    rehome(dir, 'hots', 'list', '--json'),
  ]);
  t.is(help.exitCode, 0, help.stderr);
  t.regex(help.stdout, /USAGE\n {2}\$ rehome hosts cordon HOST[\s\S]*--reason=<value>/);
  t.is(short.exitCode, 0);
  t.is(short.stdout, help.stdout);
  t.is(completion.exitCode, 0, completion.stderr);
  t.regex(completion.stdout, /rehome autocomplete/);
  t.is(typo.exitCode, 127);
  t.regex(typo.stderr, /hots list is not a rehome command/);
  t.is(typoJson.exitCode, 127);
  t.like(errorOf(typoJson.stdout), { kind: 'invalid-input', code: 'unknown-command', exitCode: 127 });
});

test('config: a missing --config, unknown keys, bad aliases are exit 3 with FILE:LINE:COL', async (t) => {
  const dir = freshDir();
  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'hosts: []\nnotfy:\n  operator: {address: ops@example.net}\n');
  const alias = join(dir, 'alias.yaml');
  writeFileSync(alias, 'hosts: *nope\n');
  const [missing, unknownKey, badAlias, doctorMissing] = await Promise.all([
    rehome(dir, 'hosts', 'list', '--config', join(dir, 'nope.yaml'), '--json'),
    rehome(dir, 'hosts', 'list', '--config', typo),
    rehome(dir, 'hosts', 'list', '--config', alias),
    rehome(dir, 'doctor', '--config', join(dir, 'nope.yaml')),
  ]);
  t.is(missing.exitCode, 3);
  t.like(errorOf(missing.stdout), { kind: 'config', code: 'config-missing' });
  t.is(unknownKey.exitCode, 3);
  t.true(
    unknownKey.stderr.includes(`${typo}:1:1: (top level): Unrecognized key: "notfy"`),
    unknownKey.stderr,
  );
  t.is(badAlias.exitCode, 3);
  t.true(badAlias.stderr.includes(`${alias}:1:8: alias *nope names no anchor`), badAlias.stderr);
  t.notRegex(badAlias.stderr, /ReferenceError/);
  t.is(doctorMissing.exitCode, 3);
  const added = await rehome(dir, 'hosts', 'add', 'hv1', '--config', join(dir, 'new.yaml'));
  t.is(added.exitCode, 0, `hosts add creates the file it is told to: ${added.stderr}`);
});

test('this machine’s failures are exit 11 with a sentence: port in use, address not here, data dir not a directory', async (t) => {
  const dir = freshDir();
  writeFileSync(join(dir, 'config.yaml'), 'hosts: []\n');
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  const [inUse, notHere, notDir] = await Promise.all([
    rehome(dir, 'serve', '--listen', `127.0.0.1:${port}`),
    rehome(dir, 'serve', '--listen', '192.0.2.1:8080', '--json'),
    runRehome({ configDir: dir, dataDir: join(file, 'sub') }, ['status', '--json']),
  ]);
  t.is(inUse.exitCode, 11);
  t.regex(inUse.stderr, new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
  t.notRegex(inUse.stderr, /EADDRINUSE/);
  t.is(notHere.exitCode, 11);
  t.like(errorOf(notHere.stdout), {
    kind: 'environment',
    message: 'Cannot listen on 192.0.2.1:8080: that address is not on this machine',
  });
  t.is(notDir.exitCode, 11);
  t.regex(String(errorOf(notDir.stdout).message), /a part of the path is not a directory/);
});

test('`--version` and `-v` answered without oclif say exactly what oclif says', async (t) => {
  const viaOclif = await rehome(freshDir(), '--version');
  t.is(viaOclif.exitCode, 0, viaOclif.stderr);
  for (const flag of ['--version', '-v']) {
    const fast = await execa(process.execPath, [join(root, 'bin/run.js'), flag], { reject: false });
    t.is(fast.exitCode, 0);
    t.is(fast.stdout, viaOclif.stdout, flag);
  }
  t.regex(viaOclif.stdout, /^rehome\/\d+\.\d+\.\d+ linux-x64 node-v\d+/);
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { runRehome } from '../helpers/rehome-cli.js';

const rehome = (configDir: string, ...args: string[]) => runRehome({ configDir }, args);

const freshDir = () => mkdtempSync(join(tmpdir(), 'rehome-hosts-'));

test('add, list and remove round-trip through config.yaml in the config dir', async (t) => {
  const dir = freshDir();
  const add = await rehome(dir, 'hosts', 'add', 'lab-a', '--address', 'root@10.0.0.11', '--label', 'zone=z1');
  t.is(add.exitCode, 0, add.stderr);
  t.regex(add.stdout, /Added host lab-a/);
  const addJson = await rehome(
    dir,
    'hosts',
    'add',
    'lab-b',
    '--labels',
    'zone=z2',
    '--image-dir',
    '/srv/img',
    '--json',
  );
  t.is(addJson.exitCode, 0, addJson.stderr);
  t.deepEqual(JSON.parse(addJson.stdout).added, {
    name: 'lab-b',
    address: 'lab-b',
    labels: { zone: 'z2' },
    imageDir: '/srv/img',
  });

  const list = await rehome(dir, 'hosts', 'list');
  t.is(list.exitCode, 0);
  t.regex(
    list.stdout,
    /^NAME +ADDRESS +STATE +REASON +VMS OUT +VMS IN +IMAGE DIR +LABELS\nlab-a +root@10\.0\.0\.11 +active +- +0 +0 +\/var\/lib\/libvirt\/images +zone=z1\nlab-b +lab-b +active +- +0 +0 +\/srv\/img +zone=z2$/,
  );

  const remove = await rehome(dir, 'hosts', 'remove', 'lab-a', '--json');
  t.is(remove.exitCode, 0);
  t.is(JSON.parse(remove.stdout).removed.name, 'lab-a');
  const listJson = await rehome(dir, 'hosts', 'list', '--json');
  t.deepEqual(
    JSON.parse(listJson.stdout).hosts.map((host: { name: string }) => host.name),
    ['lab-b'],
  );
  t.false(readFileSync(join(dir, 'config.yaml'), 'utf8').includes('lab-a'));
});

test('--json keeps the exit code: unknown host is 8 with a JSON error', async (t) => {
  const result = await rehome(freshDir(), 'hosts', 'remove', 'nosuch', '--json');
  t.is(result.exitCode, 8);
  const { error } = JSON.parse(result.stdout);
  t.is(error.exitCode, 8);
  t.is(error.kind, 'not-found');
  t.regex(error.message, /No host named nosuch/);
});

test('usage errors exit 2, with and without --json', async (t) => {
  const dir = freshDir();
  t.is((await rehome(dir, 'hosts', 'add', 'x', '--label', 'novalue')).exitCode, 2);
  t.is((await rehome(dir, 'hosts', 'add')).exitCode, 2);
  const bogus = await rehome(dir, 'hosts', 'add', 'x', '--bogus', '--json');
  t.is(bogus.exitCode, 2);
  t.like(JSON.parse(bogus.stdout).error, { exitCode: 2, kind: 'invalid-input' });
  await rehome(dir, 'hosts', 'add', 'x');
  const duplicate = await rehome(dir, 'hosts', 'add', 'x');
  t.is(duplicate.exitCode, 2);
  t.regex(duplicate.stderr, /already in/);
});

test('a bad config file gives the line and exit 3; --config picks another file', async (t) => {
  const dir = freshDir();
  const file = join(dir, 'other.yaml');
  writeFileSync(
    file,
    'hosts:\n  - name: a\n    address: a\n  - name: b\n    address: b\n    labels: [oops]\n',
  );
  const result = await rehome(dir, 'hosts', 'list', '--config', file);
  t.is(result.exitCode, 3);
  t.true(result.stderr.includes(`${file}:6:13: hosts.1.labels`), result.stderr);
  writeFileSync(file, 'hosts:\n  - name: a\n   address: a\n');
  const syntax = await rehome(dir, 'hosts', 'list', '--config', file, '--json');
  t.is(syntax.exitCode, 3);
  t.regex(JSON.parse(syntax.stdout).error.message, /other\.yaml:3:\d+: invalid YAML/);
});

test('--help shows examples', async (t) => {
  const result = await rehome(freshDir(), 'hosts', 'add', '--help');
  t.is(result.exitCode, 0);
  t.regex(result.stdout, /EXAMPLES[\s\S]*rehome hosts add lab-a --address root@10\.0\.0\.11/);
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { RehomeError } from '../../src/errors.js';
import { parseSshG, resolveSshHost } from '../../src/host/ssh-config.js';
import { parseSingleJump } from '../../src/host/ssh-connection.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/ssh/${name}`, import.meta.url), 'utf8');
const env = { home: '/home/op', localUser: 'op' };

test('parses a fully configured host, expanding ~ and % tokens', (t) => {
  const host = parseSshG('foo', fixture('ssh-G-foo.txt'), env);
  t.is(host.hostname, '10.0.0.5');
  t.is(host.user, 'bob');
  t.is(host.port, 2222);
  t.deepEqual(host.identityFiles, ['/home/op/.ssh/id_op_10.0.0.5', '/keys//home/op/x_bob_2222']);
  // ssh -G already expanded ~ in known-hosts paths with the real home of the user who ran it.
  t.is(host.userKnownHostsFiles.length, 2);
  t.true(host.userKnownHostsFiles[0]?.endsWith('/kh1'));
  t.is(host.userKnownHostsFiles[1], '/tmp/kh2');
  t.deepEqual(host.globalKnownHostsFiles, ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  t.is(host.strictHostKeyChecking, 'accept-new');
  t.true(host.hashKnownHosts);
  t.is(host.proxyJump, 'jump@bastion');
  t.is(host.serverAliveInterval, 15);
  t.is(host.connectTimeout, 7);
  t.is(host.hostKeyAlias, 'fooalias');
});

test('parses defaults: no proxy jump, no alias, no connect timeout', (t) => {
  const host = parseSshG('bar', fixture('ssh-G-defaults.txt'), env);
  t.is(host.hostname, 'bar');
  t.is(host.port, 22);
  t.is(host.proxyJump, undefined);
  t.is(host.hostKeyAlias, undefined);
  t.is(host.connectTimeout, undefined);
  t.is(host.serverAliveInterval, 0);
  t.is(host.strictHostKeyChecking, 'ask');
  t.is(host.identityFiles[0], '/home/op/.ssh/id_rsa');
  t.is(host.identityFiles.length, 7);
});

test('resolveSshHost runs the real ssh -G with -F', async (t) => {
  const configFile = new URL('../fixtures/ssh/foo.ssh_config', import.meta.url).pathname;
  const host = await resolveSshHost('foo', { configFile });
  t.is(host.hostname, '10.0.0.5');
  t.is(host.port, 2222);
  t.is(host.identityFiles[0], `${userInfo().homedir}/.ssh/id_${userInfo().username}_10.0.0.5`);
  const other = await resolveSshHost('unlisted.example', { configFile });
  t.is(other.hostname, 'unlisted.example');
  t.is(other.proxyJump, undefined);
});

test('a destination that looks like an option is refused', async (t) => {
  await t.throwsAsync(resolveSshHost('-oProxyCommand=touch /tmp/x'), { message: /Invalid SSH destination/ });
});

test('ProxyJump: one hop parsed, several hops or URIs refused', (t) => {
  t.deepEqual(parseSingleJump('bastion'), { host: 'bastion' });
  t.deepEqual(parseSingleJump('ops@bastion:2200'), { host: 'bastion', user: 'ops', port: 2200 });
  t.deepEqual(parseSingleJump('[::1]:22'), { host: '::1', port: 22 });
  t.throws(() => parseSingleJump('a,b'), { message: /supports one jump host/ });
  t.throws(() => parseSingleJump('ssh://a'), { message: /supports one jump host/ });
  t.throws(() => parseSingleJump('a b'), { message: /Cannot parse/ });
});

test('-l and -p overrides reach ssh -G', async (t) => {
  const host = await resolveSshHost('somewhere', { configFile: '/dev/null' }, { user: 'ops', port: 2200 });
  t.is(host.user, 'ops');
  t.is(host.port, 2200);
});

test('a host with ProxyCommand is refused with a clear error, not reached directly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rehome-ssh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'config');
  writeFileSync(
    configFile,
    'Host behind\n  HostName 10.9.9.9\n  ProxyCommand nc -X connect -x proxy:3128 %h %p\n',
  );
  const error = await t.throwsAsync(resolveSshHost('behind', { configFile }));
  t.is((error as RehomeError).kind, 'config');
  t.like((error as RehomeError).subject, { code: 'proxy-command', host: 'behind' });
  t.regex(error?.message ?? '', /ProxyCommand "nc -X connect -x proxy:3128 %h %p"/);
  t.regex((error as RehomeError).hints.join(' '), /ProxyJump/);
  // ProxyCommand none (the way to switch an inherited one off) is no proxy.
  writeFileSync(configFile, 'Host direct\n  HostName 10.9.9.9\n  ProxyCommand none\n');
  t.is((await resolveSshHost('direct', { configFile })).hostname, '10.9.9.9');
});

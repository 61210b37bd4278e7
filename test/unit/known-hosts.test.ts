import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import {
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
} from '../../src/host/host-key-errors.js';
import {
  fingerprintOf,
  type HostKeyPolicy,
  hashHostName,
  hostFieldMatches,
  keyTypeOf,
  parseKnownHosts,
  verifyHostKey,
} from '../../src/host/known-hosts.js';

/** A fresh ed25519 public key as the SSH wire blob and its known_hosts text form. */
function newKey(): { blob: Buffer; line: string } {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.concat([u32(type.length), type, u32(raw.length), raw]);
  return { blob, line: `ssh-ed25519 ${blob.toString('base64')}` };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function setup(content: string, overrides: Partial<HostKeyPolicy> = {}): HostKeyPolicy {
  const dir = mkdtempSync(join(tmpdir(), 'rehome-kh-'));
  const file = join(dir, 'known_hosts');
  writeFileSync(file, content);
  return {
    host: 'lab-a',
    port: 22,
    userKnownHostsFiles: [file],
    globalKnownHostsFiles: [join(dir, 'missing')],
    acceptUnknown: false,
    ...overrides,
  };
}

test('fingerprint and key type match ssh-keygen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rehome-kh-'));
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
  const pub = readFileSync(join(dir, 'k.pub'), 'utf8');
  const blob = Buffer.from(pub.split(' ')[1] as string, 'base64');
  const { stdout } = await execa('ssh-keygen', ['-l', '-f', join(dir, 'k.pub')]);
  t.is(stdout.split(' ')[1], fingerprintOf(blob));
  t.is(keyTypeOf(blob), 'ssh-ed25519');
});

test('host patterns: lists, ports, negation, wildcards, case', (t) => {
  t.true(hostFieldMatches('lab-a,10.0.0.1', 'lab-a'));
  t.true(hostFieldMatches('lab-a,10.0.0.1', '10.0.0.1'));
  t.false(hostFieldMatches('lab-a', '[lab-a]:2222'));
  t.true(hostFieldMatches('[lab-a]:2222', '[lab-a]:2222'));
  t.true(hostFieldMatches('*.lab,!bad.lab', 'good.lab'));
  t.false(hostFieldMatches('*.lab,!bad.lab', 'bad.lab'));
  t.true(hostFieldMatches('LAB-?', 'lab-a'));
  t.false(hostFieldMatches('lab-a.*', 'lab-a'));
});

test('hashed entries written by ssh-keygen -H match', async (t) => {
  const key = newKey();
  const dir = mkdtempSync(join(tmpdir(), 'rehome-kh-'));
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `lab-a ${key.line}\n[lab-b]:2222 ${key.line}\n`);
  await execa('ssh-keygen', ['-H', '-f', file]);
  const entries = parseKnownHosts(readFileSync(file, 'utf8'));
  t.is(entries.length, 2);
  t.true(entries.every((e) => e.hosts.startsWith('|1|')));
  t.true(hostFieldMatches(entries[0]?.hosts as string, 'lab-a'));
  t.false(hostFieldMatches(entries[0]?.hosts as string, 'lab-b'));
  t.true(hostFieldMatches(entries[1]?.hosts as string, '[lab-b]:2222'));
  t.true(hostFieldMatches(hashHostName('x', randomBytes(20)), 'x'));
});

test('a known key is accepted (plain, hashed and port forms)', async (t) => {
  const key = newKey();
  t.deepEqual(await verifyHostKey(setup(`lab-a ${key.line}\n`), key.blob), { status: 'known' });
  t.deepEqual(await verifyHostKey(setup(`${hashHostName('lab-a')} ${key.line}\n`), key.blob), {
    status: 'known',
  });
  t.deepEqual(await verifyHostKey(setup(`[lab-a]:2200 ${key.line}\n`, { port: 2200 }), key.blob), {
    status: 'known',
  });
});

test('a changed key is refused with host and fingerprint, even with acceptUnknown', async (t) => {
  const old = newKey();
  const presented = newKey();
  const policy = setup(`# comment\nother ${presented.line}\nlab-a ${old.line}\n`, { acceptUnknown: true });
  const error = await t.throwsAsync(verifyHostKey(policy, presented.blob), {
    instanceOf: HostKeyChangedError,
  });
  t.true(error?.message.includes('lab-a'));
  t.true(error?.message.includes(fingerprintOf(presented.blob)));
  t.true(error?.message.includes(':3'), 'names the known_hosts line');
  t.is(error?.kind, 'host-key');
  t.is(readFileSync(policy.userKnownHostsFiles[0] as string, 'utf8').split('\n').length, 4);
});

test('a key on another port does not count for port 22', async (t) => {
  const key = newKey();
  await t.throwsAsync(verifyHostKey(setup(`[lab-a]:2222 ${key.line}\n`), key.blob), {
    instanceOf: HostKeyUnknownError,
  });
});

test('the unknown-key hint gives ssh command lines that work on a non-default port', async (t) => {
  const key = newKey();
  const error = await t.throwsAsync(verifyHostKey(setup('', { port: 2222 }), key.blob), {
    instanceOf: HostKeyUnknownError,
  });
  t.true(error?.message.includes('[lab-a]:2222'));
  t.regex(
    error?.hints[0] ?? '',
    /ssh-keyscan -p 2222 lab-a >> ~\/\.ssh\/known_hosts, or connect once with ssh -p 2222 lab-a$/,
  );
  const port22 = await t.throwsAsync(verifyHostKey(setup(''), key.blob), { instanceOf: HostKeyUnknownError });
  t.regex(port22?.hints[0] ?? '', /ssh-keyscan lab-a >> .*ssh lab-a$/);
});

test('a revoked key is refused even when also listed', async (t) => {
  const key = newKey();
  await t.throwsAsync(verifyHostKey(setup(`@revoked * ${key.line}\nlab-a ${key.line}\n`), key.blob), {
    instanceOf: HostKeyRevokedError,
  });
});

test('@cert-authority lines neither match nor make a host known', async (t) => {
  const key = newKey();
  await t.throwsAsync(verifyHostKey(setup(`@cert-authority *.lab,lab-a ${key.line}\n`), key.blob), {
    instanceOf: HostKeyUnknownError,
  });
});

test('an unknown key is refused, then recorded when accepted explicitly', async (t) => {
  const key = newKey();
  const policy = setup('lab-b ssh-ed25519 AAAA\n');
  const error = await t.throwsAsync(verifyHostKey(policy, key.blob), { instanceOf: HostKeyUnknownError });
  t.true(error?.message.includes(fingerprintOf(key.blob)));
  const file = policy.userKnownHostsFiles[0] as string;
  t.deepEqual(await verifyHostKey({ ...policy, acceptUnknown: true }, key.blob), { status: 'added', file });
  t.is(readFileSync(file, 'utf8'), `lab-b ssh-ed25519 AAAA\nlab-a ${key.line}\n`);
  t.deepEqual(await verifyHostKey(policy, key.blob), { status: 'known' });
});

test('new entries are hashed when HashKnownHosts is on, and a missing file is created', async (t) => {
  const key = newKey();
  const dir = mkdtempSync(join(tmpdir(), 'rehome-kh-'));
  const file = join(dir, 'sub', 'known_hosts');
  const policy: HostKeyPolicy = {
    host: 'lab-a',
    port: 2222,
    userKnownHostsFiles: [file],
    globalKnownHostsFiles: [],
    acceptUnknown: true,
    hashNewEntries: true,
  };
  await verifyHostKey(policy, key.blob);
  const text = readFileSync(file, 'utf8');
  t.regex(text, /^\|1\|/);
  t.false(text.includes('lab-a'));
  t.deepEqual(await verifyHostKey({ ...policy, acceptUnknown: false }, key.blob), { status: 'known' });
  const { stdout } = await execa('ssh-keygen', ['-F', '[lab-a]:2222', '-f', file]);
  t.true(stdout.includes('found'), 'OpenSSH finds the entry we wrote');
});

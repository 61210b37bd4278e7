import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostKeyChangedError, HostKeyRevokedError, HostKeyUnknownError } from './host-key-errors.js';

export type KnownHostMarker = 'revoked' | 'cert-authority' | undefined;

export interface KnownHostEntry {
  file: string;
  line: number;
  marker: KnownHostMarker;
  /** The host field as written: a comma list of patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** The SSH wire-format public key blob. */
  key: Buffer;
}

/** Parse one known_hosts file's text. Malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostMarker;
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift()?.slice(1);
      if (name !== 'revoked' && name !== 'cert-authority') return;
      marker = name;
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) return;
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length === 0) return;
    entries.push({ file, line: index + 1, marker, hosts, keyType, key });
  });
  return entries;
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Does an entry's host field cover this name? Hashed entries, comma lists, `!` negation and `*`/`?` wildcards. */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) return hashedMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (!globMatches(glob.toLowerCase(), name.toLowerCase())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , saltBase64, hashBase64] = field.split('|');
  if (!saltBase64 || !hashBase64) return false;
  const digest = createHmac('sha1', Buffer.from(saltBase64, 'base64')).update(name).digest('base64');
  return digest === hashBase64;
}

/** `|1|salt|hash` for a name, as `ssh-keygen -H` writes it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${hash}`;
}

function globMatches(glob: string, name: string): boolean {
  if (!/[*?]/.test(glob)) return glob === name;
  const regex = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(name);
}

/** `SHA256:…` as OpenSSH prints it (base64 without padding). */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first string inside the wire-format blob. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

export interface HostKeyPolicy {
  /** The name to look up (HostKeyAlias, or the resolved HostName). */
  host: string;
  port: number;
  /** Read in order; the first one is where new keys are appended. */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  acceptUnknown: boolean;
  /** Write `|1|…` names for appended keys (OpenSSH's HashKnownHosts). */
  hashNewEntries?: boolean;
}

export type HostKeyVerdict = { status: 'known' } | { status: 'added'; file: string };

/** Every entry, from every readable file, that names this host. Missing files are fine. */
export async function knownEntriesFor(policy: HostKeyPolicy): Promise<KnownHostEntry[]> {
  const name = lookupName(policy);
  const entries: KnownHostEntry[] = [];
  for (const file of [...policy.userKnownHostsFiles, ...policy.globalKnownHostsFiles]) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return '';
      throw err;
    });
    entries.push(...parseKnownHosts(text, file).filter((entry) => hostFieldMatches(entry.hosts, name)));
  }
  return entries;
}

/**
 * Check a presented key against known_hosts. A revoked or changed key is always refused; an unknown key is
 * refused unless `acceptUnknown`, in which case it is appended to the first user known_hosts file.
 */
export async function verifyHostKey(policy: HostKeyPolicy, presented: Buffer): Promise<HostKeyVerdict> {
  const name = lookupName(policy);
  const keyType = keyTypeOf(presented);
  const fingerprint = fingerprintOf(presented);
  const entries = (await knownEntriesFor(policy)).filter((entry) => entry.marker !== 'cert-authority');
  if (entries.some((entry) => entry.marker === 'revoked' && entry.key.equals(presented))) {
    throw new HostKeyRevokedError(name, fingerprint, keyType);
  }
  const plain = entries.filter((entry) => entry.marker === undefined);
  if (plain.some((entry) => entry.key.equals(presented))) return { status: 'known' };
  if (plain.length > 0) {
    throw new HostKeyChangedError(
      name,
      fingerprint,
      keyType,
      plain.map((entry) => `${entry.file}:${entry.line}`),
    );
  }
  if (!policy.acceptUnknown) throw new HostKeyUnknownError(name, fingerprint, keyType, policy.port);
  const file = policy.userKnownHostsFiles[0];
  if (!file) throw new HostKeyUnknownError(name, fingerprint, keyType, policy.port);
  await appendKnownHost(file, policy.hashNewEntries ? hashHostName(name) : name, presented);
  return { status: 'added', file };
}

/** Key types that known_hosts lists for this host, so the handshake can ask for one of those first. */
export async function knownKeyTypesFor(policy: HostKeyPolicy): Promise<string[]> {
  const entries = await knownEntriesFor(policy);
  return [...new Set(entries.filter((entry) => entry.marker === undefined).map((entry) => entry.keyType))];
}

async function appendKnownHost(file: string, hostField: string, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const existing = await readFile(file, 'utf8').catch(() => '');
  const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
  await appendFile(file, `${separator}${hostField} ${keyTypeOf(key)} ${key.toString('base64')}\n`, {
    mode: 0o600,
  });
}

function lookupName(policy: HostKeyPolicy): string {
  return knownHostsName(policy.host, policy.port);
}

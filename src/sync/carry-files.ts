/**
 * Small files carried from one host to another through rehome's own SSH connections (the hosts need no trust between
 * them), in a fixed number of round trips whatever the number of files: on the source, list them with owners and
 * modes, then hash them and archive them with `tar -c`; on the target, remove what is at those paths, extract the
 * archive with `tar -x` (owners by name, as uids differ between hosts; modes kept), then list and hash again and
 * compare. Meant for firmware state (a UEFI variable store, a vTPM's state directory): kilobytes to a few MiB, so the
 * archive is held in memory between the two hosts.
 */
import { posix } from 'node:path';
import { RehomeError } from '../errors.js';
import { type BinaryShell, mustExec, mustExecBuffer, type RemoteShell } from './remote.js';

/** A file or directory as listed on a host (owners by name and number, octal mode) and, for files, its checks. */
export interface CarriedEntry {
  type: 'file' | 'dir';
  path: string;
  /** Octal permission bits. */
  mode: string;
  owner: string;
  group: string;
  uid: number;
  gid: number;
  /** Files only. */
  size?: number;
  sha256?: string;
}

const FIND_FORMAT = '%y %m %u %g %U %G %s %p\\0';

function assertPlainPaths(roots: readonly string[]): void {
  for (const root of roots) {
    if (!posix.isAbsolute(root) || posix.normalize(root) !== root || root === '/')
      throw new RehomeError(
        `Refusing to carry ${JSON.stringify(root)}: not a plain absolute path`,
        'internal',
      );
  }
}

/** Every file and directory under `roots` (each a file or a directory), parents first. */
export async function listTree(shell: RemoteShell, roots: readonly string[]): Promise<CarriedEntry[]> {
  assertPlainPaths(roots);
  const { stdout } = await mustExec(shell, ['find', ...roots, '-printf', FIND_FORMAT]);
  return parseFindOutput(stdout, shell.name);
}

export function parseFindOutput(stdout: string, host: string): CarriedEntry[] {
  const entries: CarriedEntry[] = [];
  for (const record of stdout.split('\0')) {
    if (record === '') continue;
    const match = /^(\S) ([0-7]+) (\S+) (\S+) (\d+) (\d+) (\d+) (\/.*)$/s.exec(record);
    if (!match)
      throw new RehomeError(`Unexpected find output on ${host}: ${JSON.stringify(record)}`, 'internal');
    const [, kind, mode, owner, group, uid, gid, size, path] = match as unknown as string[];
    if (kind !== 'f' && kind !== 'd') {
      throw new RehomeError(
        `${path} on ${host} is neither a file nor a directory (find type ${kind}): not carried`,
        'migration-failed',
      );
    }
    const entry: CarriedEntry = {
      type: kind === 'f' ? 'file' : 'dir',
      path: path as string,
      mode: mode as string,
      owner: owner as string,
      group: group as string,
      uid: Number(uid),
      gid: Number(gid),
    };
    if (kind === 'f') entry.size = Number(size);
    entries.push(entry);
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `sha256sum -- PATHS`: each path's hex digest. */
export async function remoteSha256(
  shell: RemoteShell,
  paths: readonly string[],
): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  if (paths.length === 0) return sums;
  const { stdout } = await mustExec(shell, ['sha256sum', '--', ...paths]);
  for (const line of stdout.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.*)$/.exec(line);
    if (match) sums.set(match[2] as string, match[1] as string);
  }
  for (const path of paths) {
    if (!sums.has(path))
      throw new RehomeError(`sha256sum on ${shell.name} gave no digest for ${path}`, 'migration-failed');
  }
  return sums;
}

const shape = (entry: CarriedEntry) =>
  `${entry.type} ${Number.parseInt(entry.mode, 8).toString(8)} ${entry.owner}:${entry.group} ${entry.type === 'file' ? entry.size : ''} ${entry.path}`;

/**
 * Copies `roots` from `from` to `to`, at the same paths, replacing what the target had there. The source is only read.
 * Throws when the target's copy differs from the source's listing: an entry, an owner, a mode, a file's size or its
 * sha256 (a file that changed on the source while it was archived shows here too). Commands that do not need each
 * other's output run side by side, so the carry takes three round trips to each host.
 */
export async function carryTree(
  from: BinaryShell,
  to: RemoteShell,
  roots: readonly string[],
): Promise<CarriedEntry[]> {
  assertPlainPaths(roots);
  // Relative names under -C /: tar then warns of nothing, and `--` keeps a name from reading as an option.
  const [entries, { stdout: archive }] = await Promise.all([
    listTree(from, roots),
    mustExecBuffer(from, ['tar', '-c', '-f', '-', '-C', '/', '--', ...roots.map((root) => root.slice(1))]),
    mustExec(to, ['rm', '-rf', '--', ...roots]),
  ]);
  const files = entries.flatMap((entry) => (entry.type === 'file' ? [entry.path] : []));
  const [sums] = await Promise.all([remoteSha256(from, files), untar(to, archive)]);
  const carried = entries.map((entry) =>
    entry.type === 'file' ? { ...entry, sha256: sums.get(entry.path) as string } : entry,
  );
  // A missing file is reported by the listing, not by sha256sum's complaint.
  const hashing = remoteSha256(to, files);
  hashing.catch(() => undefined);
  const written = await listTree(to, roots);
  const want = carried.map(shape).join('\n');
  const got = written.map(shape).join('\n');
  const differs = (detail: string) =>
    new RehomeError(
      `the copy on ${to.name} differs from the source${detail}:\n${got}\nexpected:\n${want}`,
      'migration-failed',
    );
  if (got !== want) throw differs('');
  const writtenSums = await hashing;
  const badSum = carried.find(
    (entry) => entry.type === 'file' && writtenSums.get(entry.path) !== entry.sha256,
  );
  if (badSum) throw differs(` (sha256 of ${badSum.path})`);
  return carried;
}

/** `tar -x` as root: owners by name where the target knows the name (uids of system users differ), modes kept. */
async function untar(to: RemoteShell, archive: Buffer): Promise<void> {
  const result = await to.exec(['tar', '-x', '-p', '--same-owner', '-f', '-', '-C', '/'], {
    stdin: archive,
    timeoutMs: 60_000,
  });
  if (result.code !== 0) {
    throw new RehomeError(
      `tar on ${to.name} exited ${result.code ?? result.signal}: ${result.stderr.trim()}`,
      'migration-failed',
    );
  }
}

/**
 * Small files carried from one host to another through rehome's own SSH connections (the hosts need no trust between
 * them), in a fixed number of round trips whatever the number of files: on the source, list them with owners and
 * modes, hash them and read them; on the target, remove what is at those paths, extract one tar archive (owners by
 * name, as uids differ between hosts; modes kept), then list and hash again and compare. Meant for firmware state (a
 * UEFI variable store, a vTPM's state directory): kilobytes to a few MiB.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { RehomeError } from '../errors.js';
import { mustExec, type RemoteShell } from './remote.js';
import { type TarEntry, ustar } from './ustar.js';

/** A file or directory as listed on the source (owners by name and number, octal mode) and its checks. */
export type CarriedEntry = Omit<TarEntry, 'data'> & {
  /** Files only. */
  size?: number;
  sha256?: string;
};

const FIND_FORMAT = '%y %m %u %g %U %G %s %p\\0';

/** Every file and directory under `roots` (each a file or a directory), parents first. */
export async function listTree(shell: RemoteShell, roots: readonly string[]): Promise<CarriedEntry[]> {
  for (const root of roots) {
    if (!posix.isAbsolute(root) || posix.normalize(root) !== root || root === '/')
      throw new RehomeError(
        `Refusing to carry ${JSON.stringify(root)}: not a plain absolute path`,
        'internal',
      );
  }
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

/** The contents of `files`, read in one command (`od` writes them as hex, one stream, split by their sizes). */
async function readFiles(shell: RemoteShell, files: readonly CarriedEntry[]): Promise<Buffer[]> {
  if (files.length === 0) return [];
  const { stdout } = await mustExec(shell, [
    'od',
    '-An',
    '-v',
    '-tx1',
    '--',
    ...files.map((file) => file.path),
  ]);
  const all = Buffer.from(stdout.replace(/\s+/g, ''), 'hex');
  const contents: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    contents.push(all.subarray(offset, offset + (file.size ?? 0)));
    offset += file.size ?? 0;
  }
  if (offset !== all.length) {
    throw new RehomeError(
      `${files.map((f) => f.path).join(', ')} on ${shell.name} changed while they were read`,
      'migration-failed',
    );
  }
  return contents;
}

const shape = (entry: CarriedEntry) =>
  `${entry.type} ${Number.parseInt(entry.mode, 8).toString(8)} ${entry.owner}:${entry.group} ${entry.type === 'file' ? entry.size : ''} ${entry.path}`;

/**
 * Copies `roots` from `from` to `to`, at the same paths, replacing what the target had there. Throws when a file's
 * size or sha256 differs at any end (read on the source, received, written on the target), or an owner or a mode.
 */
export async function carryTree(
  from: RemoteShell,
  to: RemoteShell,
  roots: readonly string[],
): Promise<CarriedEntry[]> {
  const entries = await listTree(from, roots);
  const files = entries.filter((entry) => entry.type === 'file');
  const sums = await remoteSha256(
    from,
    files.map((file) => file.path),
  );
  const contents = new Map((await readFiles(from, files)).map((data, i) => [files[i]?.path as string, data]));
  const carried = entries.map((entry) => {
    if (entry.type === 'dir') return entry;
    const sha256 = sums.get(entry.path) as string;
    if (
      createHash('sha256')
        .update(contents.get(entry.path) as Buffer)
        .digest('hex') !== sha256
    ) {
      throw new RehomeError(`${entry.path} changed while it was read on ${from.name}`, 'migration-failed');
    }
    return { ...entry, sha256 };
  });
  // Relative names, extracted at /; tar makes missing parent directories.
  const archive = ustar(
    carried.map((entry) => {
      const data = contents.get(entry.path);
      return { ...entry, path: entry.path.slice(1), ...(data ? { data } : {}) };
    }),
  );
  await mustExec(to, ['rm', '-rf', '--', ...roots]);
  const untar = await to.exec(['tar', '-x', '-p', '--same-owner', '-f', '-', '-C', '/'], {
    stdin: archive,
    timeoutMs: 60_000,
  });
  if (untar.code !== 0) {
    throw new RehomeError(
      `tar on ${to.name} exited ${untar.code ?? untar.signal}: ${untar.stderr.trim()}`,
      'migration-failed',
    );
  }
  const written = await listTree(to, roots);
  const writtenSums = await remoteSha256(
    to,
    files.map((file) => file.path),
  );
  const want = carried.map(shape).join('\n');
  const got = written.map(shape).join('\n');
  const badSum = carried.find(
    (entry) => entry.type === 'file' && writtenSums.get(entry.path) !== entry.sha256,
  );
  if (got !== want || badSum) {
    throw new RehomeError(
      `the copy on ${to.name} differs from the source${badSum ? ` (sha256 of ${badSum.path})` : ''}:\n${got}\nexpected:\n${want}`,
      'migration-failed',
    );
  }
  return carried;
}

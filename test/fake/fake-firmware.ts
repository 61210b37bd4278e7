import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { FakeDomain, FakeFile, FakeHost } from './fake-host.js';
import { readDomainXml } from './guest-xml.js';
import type { ExecResult } from './src-imports.js';
import { UndefineFlags } from './src-imports.js';

/**
 * Firmware state as libvirt and QEMU keep it on a host: a UEFI guest's NVRAM file (created from the template at the
 * first start when missing), a vTPM's state directory under /var/lib/libvirt/swtpm/<uuid>/ (swtpm_setup makes a fresh
 * one when missing; undefine deletes it unless told to keep it). QEMU and swtpm write their last state as they exit.
 * And the shell commands that carry such files: find, sha256sum, tar -c and tar -x. The fake's archive is its own
 * format (a JSON line per entry, then the file's raw bytes): carry-files passes it on without reading it, and a copy
 * that went through a UTF-8 decode would not come out whole.
 */

export const SWTPM_DIR = '/var/lib/libvirt/swtpm';
const EXIT_MARK = '+exit';

/** What a fake command writes: text, or bytes (an archive); FakeShell gives it as `exec` or `execBuffer` asked. */
export type ShellResult = ExecResult<string | Buffer>;

const ok = (stdout: string | Buffer = ''): ShellResult => ({ stdout, stderr: '', code: 0 });
const fail = (stderr: string, code = 1): ExecResult => ({ stdout: '', stderr, code });

export function tpmStateDir(uuid: string): string {
  return `${SWTPM_DIR}/${uuid}`;
}

export function permallPath(uuid: string): string {
  return `${tpmStateDir(uuid)}/tpm2/tpm2-00.permall`;
}

function blob(host: FakeHost, path: string, data: string, mode: string, owner: string): void {
  host.files.set(path, { kind: 'blob', data: Buffer.from(data), mode, owner, group: owner });
}

function freshTpm(host: FakeHost, uuid: string, data: string): void {
  host.dirs.set(tpmStateDir(uuid), { mode: '711', owner: 'root', group: 'root' });
  host.dirs.set(`${tpmStateDir(uuid)}/tpm2`, { mode: '700', owner: 'tss', group: 'tss' });
  blob(host, permallPath(uuid), data, '600', 'tss');
}

/** The firmware state of a guest that has run on `host` for a while. */
export function seedFirmware(
  host: FakeHost,
  spec: { name: string; uuid: string; nvram?: string; tpm?: boolean },
) {
  if (spec.nvram)
    blob(host, spec.nvram, `${spec.name} vars: boot entries, secure boot keys`, '600', 'libvirt-qemu');
  if (spec.tpm) freshTpm(host, spec.uuid, `${spec.name} tpm: sealed keys, NV index 0x1500016`);
}

/** At start: what libvirt makes when the files are missing (a fresh variable store, a fresh TPM). */
export function firmwareAtStart(host: FakeHost, domain: FakeDomain): void {
  const parsed = readDomainXml(domain.xml);
  if (parsed.nvramPath && !host.files.has(parsed.nvramPath))
    blob(host, parsed.nvramPath, 'fresh vars from the template', '600', 'libvirt-qemu');
  if (parsed.tpm && !host.files.has(permallPath(domain.uuid))) freshTpm(host, domain.uuid, 'fresh tpm');
}

/** At stop: QEMU and swtpm write their last state as they exit. */
export function firmwareAtStop(host: FakeHost, domain: FakeDomain): void {
  const parsed = readDomainXml(domain.xml);
  for (const path of [parsed.nvramPath, parsed.tpm ? permallPath(domain.uuid) : undefined]) {
    const file = path ? host.files.get(path) : undefined;
    if (file?.kind === 'blob') file.data = Buffer.concat([file.data, Buffer.from(EXIT_MARK)]);
  }
}

/** At undefine: libvirt deletes the TPM state unless kept, and the NVRAM file when asked. */
export function firmwareAtUndefine(host: FakeHost, domain: FakeDomain, flags: number): void {
  const parsed = readDomainXml(domain.xml);
  if (parsed.tpm && !(flags & UndefineFlags.keepTpm)) removeTree(host, tpmStateDir(domain.uuid));
  if (parsed.nvramPath && flags & UndefineFlags.nvram) host.files.delete(parsed.nvramPath);
}

export function removeTree(host: FakeHost, path: string): void {
  for (const map of [host.files, host.dirs] as Map<string, unknown>[])
    for (const key of [...map.keys()]) if (key === path || key.startsWith(`${path}/`)) map.delete(key);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const IDS: Record<string, number> = { root: 0, tss: 103, 'libvirt-qemu': 64055 };

/** The commands above, or undefined for a command this file does not answer. */
export function firmwareCommand(
  host: FakeHost,
  argv: readonly string[],
  stdin?: Buffer,
): ShellResult | undefined {
  const [command, ...args] = argv;
  const paths = args.slice(args.indexOf('--') + 1);
  const blobs = paths.map((path) => [path, host.files.get(path)] as const);
  const missing = blobs.find(([, file]) => file?.kind !== 'blob')?.[0];
  switch (command) {
    case 'find':
      return find(host, argv);
    case 'sha256sum':
      if (missing !== undefined) return fail(`sha256sum: ${missing}: No such file or directory`);
      return ok(blobs.map(([path, file]) => `${sha256((file as Blob).data)}  ${path}\n`).join(''));
    case 'tar':
      return argv.includes('-c') ? tarCreate(host, argv) : untar(host, argv, stdin ?? Buffer.alloc(0));
    default:
      return undefined;
  }
}

type Blob = Extract<FakeFile, { kind: 'blob' }>;

/** One entry of the fake's archive: a JSON line (path relative to `-C`, attributes, a file's size), then a file's bytes. */
interface ArchivedEntry {
  path: string;
  type: 'file' | 'dir';
  mode: string;
  owner: string;
  group: string;
  size: number;
}

/** `tar -c -f - -C DIR -- NAME...`: each name with everything under it, or exit 2 naming what is missing. */
function tarCreate(host: FakeHost, argv: readonly string[]): ShellResult {
  const dir = argv[argv.indexOf('-C') + 1] ?? '/';
  const parts: Buffer[] = [];
  const add = (entry: ArchivedEntry, data: Buffer = Buffer.alloc(0)) =>
    parts.push(Buffer.from(`${JSON.stringify(entry)}\n`), data);
  const errors: string[] = [];
  for (const name of argv.slice(argv.indexOf('--') + 1)) {
    const root = posix.join(dir, name);
    const under = (key: string) => key === root || key.startsWith(`${root}/`);
    const count = parts.length;
    for (const [key, { mode, owner, group }] of host.dirs)
      if (under(key)) add({ path: posix.relative(dir, key), type: 'dir', mode, owner, group, size: 0 });
    for (const [key, file] of host.files) {
      if (!under(key) || file.kind !== 'blob') continue;
      const { mode, owner, group, data } = file;
      add({ path: posix.relative(dir, key), type: 'file', mode, owner, group, size: data.length }, data);
    }
    if (parts.length === count) errors.push(`tar: ${name}: Cannot stat: No such file or directory`);
  }
  if (errors.length > 0)
    return fail([...errors, 'tar: Exiting with failure status due to previous errors'].join('\n'), 2);
  return ok(Buffer.concat(parts));
}

/** `tar -x -p --same-owner -f - -C DIR` of the fake's archive: files and directories with their modes and owners. */
function untar(host: FakeHost, argv: readonly string[], archive: Buffer): ShellResult {
  const dir = argv[argv.indexOf('-C') + 1] ?? '/';
  for (let offset = 0; offset < archive.length; ) {
    const newline = archive.indexOf('\n', offset);
    let entry: ArchivedEntry;
    try {
      entry = JSON.parse(archive.subarray(offset, newline).toString()) as ArchivedEntry;
    } catch {
      return fail('tar: This does not look like a tar archive', 2);
    }
    const { path, type, size, ...attributes } = entry;
    const at = posix.join(dir, path);
    if (type === 'dir') host.dirs.set(at, attributes);
    else {
      mkdirs(host, [posix.dirname(at)]);
      host.files.set(at, {
        kind: 'blob',
        data: Buffer.from(archive.subarray(newline + 1, newline + 1 + size)),
        ...attributes,
      });
    }
    offset = newline + 1 + size;
  }
  return ok();
}

function find(host: FakeHost, argv: readonly string[]): ExecResult {
  const roots = argv.slice(1, argv.indexOf('-printf'));
  const lines: string[] = [];
  const errors: string[] = [];
  const ids = (owner: string, group: string) =>
    `${owner} ${group} ${IDS[owner] ?? 1000} ${IDS[group] ?? 1000}`;
  for (const root of roots) {
    const under = (key: string) => key === root || key.startsWith(`${root}/`);
    const entries = [
      ...[...host.dirs]
        .filter(([key]) => under(key))
        .map(([key, d]) => `d ${d.mode} ${ids(d.owner, d.group)} 4096 ${key}`),
      ...[...host.files]
        .filter(([key, f]) => under(key) && f.kind === 'blob')
        .map(([key, f]) => {
          const b = f as Blob;
          return `f ${b.mode} ${ids(b.owner, b.group)} ${b.data.length} ${key}`;
        }),
    ];
    if (entries.length === 0) errors.push(`find: '${root}': No such file or directory`);
    lines.push(...entries);
  }
  return {
    stdout: lines.map((line) => `${line}\0`).join(''),
    stderr: errors.join('\n'),
    code: errors.length ? 1 : 0,
  };
}

/** `mkdir -p -- PATH`: the directory and its missing parents, owned by root. */
export function mkdirs(host: FakeHost, args: readonly string[]): ShellResult {
  for (const path of args.filter((arg) => arg.startsWith('/'))) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!host.dirs.has(dir)) host.dirs.set(dir, { mode: '755', owner: 'root', group: 'root' });
    }
  }
  return ok();
}

/**
 * A minimal POSIX ustar writer: regular files and directories with their mode and owner names, for `tar -x` on a
 * host (as root, GNU tar gives each entry its owner by name when the name exists there, else by number).
 */
import { RehomeError } from '../errors.js';

export interface TarEntry {
  type: 'file' | 'dir';
  /** Relative to where the archive is extracted (no leading `/`). */
  path: string;
  /** Octal permission bits. */
  mode: string;
  owner: string;
  group: string;
  /** Used by tar where the owner or group name does not exist. */
  uid: number;
  gid: number;
  /** Files only. */
  data?: Buffer;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new RehomeError(`tar header field too long: ${value}`, 'internal');
  bytes.copy(header, offset);
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  field(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** ustar keeps a path in `name` (100 bytes) or splits it at a `/` into `prefix` (155) and `name`. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  throw new RehomeError(`path too long for a tar archive: ${path}`, 'internal');
}

function header(entry: TarEntry, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const { prefix, name } = splitPath(entry.type === 'dir' ? `${entry.path}/` : entry.path);
  field(block, 0, 100, name);
  octal(block, 100, 8, Number.parseInt(entry.mode, 8));
  octal(block, 108, 8, entry.uid);
  octal(block, 116, 8, entry.gid);
  octal(block, 124, 12, entry.type === 'file' ? (entry.data?.length ?? 0) : 0);
  octal(block, 136, 12, mtime);
  block.fill(' ', 148, 156);
  field(block, 156, 1, entry.type === 'file' ? '0' : '5');
  field(block, 257, 6, 'ustar\0');
  field(block, 263, 2, '00');
  field(block, 265, 32, entry.owner);
  field(block, 297, 32, entry.group);
  field(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  field(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

export function ustar(entries: readonly TarEntry[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry, mtime));
    if (entry.type === 'file' && entry.data && entry.data.length > 0) {
      parts.push(entry.data, Buffer.alloc((BLOCK - (entry.data.length % BLOCK)) % BLOCK));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

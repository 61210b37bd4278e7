import { posix } from 'node:path';

/**
 * Why a name that libvirt (or a domain definition) gives cannot become part of a path, a file name or an argv on a
 * host; undefined when it can. Names are used as one path component: no `/`, not `.` or `..`, no NUL or other
 * control character, no leading `-` (it would read as an option), at most 200 bytes.
 */
export function unsafeName(name: string | undefined): string | undefined {
  if (name === undefined || name === '') return 'it is empty';
  if (name.includes('/')) return "it contains '/'";
  if (name === '.' || name === '..') return `it is '${name}'`;
  if (name.includes('..')) return "it contains '..'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here.
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  if (name.startsWith('-')) return "it starts with '-'";
  if (Buffer.byteLength(name) > 200) return 'it is longer than 200 bytes';
  return undefined;
}

/** An absolute path with `.`, `..` and repeated slashes resolved; undefined for a relative or empty path. */
export function normalizeAbsolute(path: string | undefined): string | undefined {
  if (!path?.startsWith('/') || path.includes('\0')) return undefined;
  return posix.normalize(path);
}

/** Whether `path` lies under `prefix` (both normalised first): `/shared/../local/x` is not under `/shared`. */
export function isUnderPrefix(path: string, prefix: string): boolean {
  const normalPath = normalizeAbsolute(path);
  const normalPrefix = normalizeAbsolute(prefix);
  if (!normalPath || !normalPrefix) return false;
  if (normalPrefix === '/') return true;
  const base = normalPrefix.endsWith('/') ? normalPrefix : `${normalPrefix}/`;
  return normalPath.startsWith(base);
}

/** The volume group and logical volume of a `/dev/VG/LV` path, when both are safe names. */
export function logicalVolumeOf(path: string): { vg: string; lv: string } | undefined {
  const normal = normalizeAbsolute(path);
  const match = normal ? /^\/dev\/([^/]+)\/([^/]+)$/.exec(normal) : null;
  if (!match) return undefined;
  const [, vg, lv] = match as unknown as [string, string, string];
  if (vg === 'mapper' || vg === 'disk' || unsafeName(vg) || unsafeName(lv)) return undefined;
  return { vg, lv };
}

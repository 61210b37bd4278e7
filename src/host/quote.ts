import { RehomeError } from '../errors.js';

/**
 * Quote one argument for a POSIX shell: wrap it in single quotes, and write each embedded `'` as `'\''`.
 * Inside single quotes nothing is special, so `$()`, backticks, newlines and globs stay literal.
 */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) {
    throw new RehomeError('Refusing a remote command argument that contains a NUL byte', 'invalid-input');
  }
  if (arg !== '' && /^[A-Za-z0-9_@%+:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The one way to turn an argv into a command line for a remote shell (ssh always runs one). */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new RehomeError('Refusing to run an empty remote command', 'invalid-input');
  return argv.map(quoteArg).join(' ');
}

/**
 * quoteArgv on one line, for a shell that reads its command with `read` (see cued-shell.ts): an argument's newline is
 * written as `"$nl"` between its quoted parts, and that shell defines `nl` as a newline.
 */
export function quoteArgvOneLine(argv: readonly string[]): string {
  return quoteArgv(argv).replaceAll('\n', `'"$nl"'`);
}

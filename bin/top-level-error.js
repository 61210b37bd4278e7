// What bin/run.js and bin/dev.js do with an error no command caught: one that happens before any command runs (a
// mistyped command) is answered in JSON under --json, in the shape src/cli/base-command.ts gives; the rest as oclif does.
export async function handleTopLevelError(error, argv) {
  const exit = error?.oclif?.exit;
  if (!argv.includes('--json') || exit === 0 || error?.name === 'ExitError') {
    const { handle } = await import('@oclif/core/handle');
    return handle(error);
  }
  const { stripVTControlCharacters } = await import('node:util');
  const exitCode = typeof exit === 'number' ? exit : 1;
  const said = stripVTControlCharacters(String(error?.message ?? error));
  const typed = argv.filter((arg) => !arg.startsWith('-')).join(' ');
  const message = exitCode === 127 ? `${typed} is not a rehome command. ${said}` : said;
  const kind = exitCode === 1 ? 'internal' : 'invalid-input';
  const code = exitCode === 127 ? { code: 'unknown-command' } : {};
  const json = { error: { name: error?.name ?? 'Error', kind, ...code, message, exitCode } };
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  process.exitCode = exitCode;
}

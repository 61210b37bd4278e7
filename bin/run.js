#!/usr/bin/env node
// Start-up cost is most of `rehome --version` (bench/startup.ts). `--version` (or -v) alone is answered here, as oclif
// would answer it (its user agent), without loading oclif at all; REHOME_OCLIF_VERSION=1 sends it through oclif
// instead (the bench measures both). Everything else: only oclif's run path (not its whole index), without its check
// of its own engines range with semver (47 modules, ~15 ms; package.json's engines says which Node rehome needs).
// Commands come from oclif.manifest.json: none is imported until it runs.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v') && !process.env.REHOME_OCLIF_VERSION) {
  const { readFileSync } = await import('node:fs');
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  process.stdout.write(
    `${pjson.name}/${pjson.version} ${process.platform}-${arch} node-${process.version}\n`,
  );
} else {
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
  const { run } = await import('@oclif/core/run');
  const { flush } = await import('@oclif/core/flush');
  try {
    await run(argv, import.meta.url);
    await flush();
  } catch (error) {
    const { handleTopLevelError } = await import('./top-level-error.js');
    await handleTopLevelError(error, argv);
  }
}

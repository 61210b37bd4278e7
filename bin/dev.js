#!/usr/bin/env -S node --import tsx --no-warnings
// The commands from source (commands/*.ts through tsx). oclif.manifest.json is ignored: it describes dist/ as of the
// last build, and a command added or changed since would be missing or stale in it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flush, Plugin, run, settings } from '@oclif/core';
import { handleTopLevelError } from './top-level-error.js';

// As oclif's execute({ development: true }) does: commands from TypeScript sources, stack traces on errors.
process.env.NODE_ENV = 'development';
settings.debug = true;
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const rootPlugin = new Plugin({ root, isRoot: true, ignoreManifest: true });
await rootPlugin.load();
const plugins = new Map([[rootPlugin.name, rootPlugin]]);
for (const name of rootPlugin.pjson.oclif.plugins ?? []) {
  const plugin = new Plugin({ root: join(root, 'node_modules', name), name, type: 'core' });
  await plugin.load();
  plugins.set(plugin.name, plugin);
}
const argv = process.argv.slice(2);
try {
  await run(argv, { root, plugins });
  await flush();
} catch (error) {
  await handleTopLevelError(error, argv);
}

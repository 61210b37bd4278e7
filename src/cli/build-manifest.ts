// Writes oclif.manifest.json from the built commands in dist/, with @oclif/core's own Plugin API (what
// `oclif manifest` does), so that `rehome --version` and `--help` never import every command. Run by `npm run build`
// as `node dist/src/cli/build-manifest.js`.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
const { manifest } = plugin;
const count = Object.keys(manifest.commands).length;
if (count === 0) throw new Error('no commands found: build dist/ first');
await writeFile(`${root}/oclif.manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
process.stderr.write(`oclif.manifest.json: ${count} commands, version ${manifest.version}\n`);

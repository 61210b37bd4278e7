/**
 * bench/startup: how long `rehome --version` and `rehome --help` take against `node -e 0`, measured in the same run,
 * interleaved (one of each per round) so that a busy machine slows all three alike. Goal (issue 13): `--version`
 * ≤ 2.5 × `node -e 0` (median of 7).
 *
 * `--version` alone is answered by bin/run.js without loading oclif; `--version (oclif)` is the same answer through
 * oclif's start-up (config, plugins, the manifest), which every other command pays, and `--help` loads the help too.
 *
 * It runs the built CLI (bin/run.js over dist/ and oclif.manifest.json), so build first:
 *   npm run build && npx tsx bench/startup.ts [--runs 7] [--root DIR]
 * (--root: another built copy of the repository, e.g. one built outside the shared dist/.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { formatMs, summarize } from './lib/stats.js';

const GOAL_RATIO = 2.5;
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, root: { type: 'string', default: process.cwd() } },
});
const runs = Number(values.runs);
const root = values.root;

const manifest = join(root, 'oclif.manifest.json');
if (!existsSync(join(root, 'dist/commands')) || !existsSync(manifest)) {
  console.error(`${root} is not built (no dist/commands or oclif.manifest.json): run npm run build first`);
  process.exit(2);
}

const cases = [
  { name: 'node -e 0', argv: ['-e', '0'] },
  { name: 'rehome --version', argv: [join(root, 'bin/run.js'), '--version'] },
  // The same answer through oclif (config, plugins, manifest), as every other command starts.
  {
    name: 'rehome --version (oclif)',
    argv: [join(root, 'bin/run.js'), '--version'],
    env: { REHOME_OCLIF_VERSION: '1' },
  },
  { name: 'rehome --help', argv: [join(root, 'bin/run.js'), '--help'] },
] as const;

function timeOnce(argv: readonly string[], env: Record<string, string> = {}): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, argv, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const elapsed = performance.now() - started;
  if (result.status !== 0)
    throw new Error(`node ${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

for (const entry of cases) timeOnce(entry.argv, 'env' in entry ? entry.env : {}); // warm the file cache
const times = new Map<string, number[]>(cases.map(({ name }) => [name, []]));
for (let round = 0; round < runs; round++)
  for (const entry of cases)
    times.get(entry.name)?.push(timeOnce(entry.argv, 'env' in entry ? entry.env : {}));

const baseline = summarize(times.get('node -e 0') ?? []).median;
console.log(`startup, ${runs} interleaved runs each, ${root}`);
for (const { name } of cases) {
  const summary = summarize(times.get(name) ?? []);
  const ratio = summary.median / baseline;
  console.log(`${name.padEnd(25)} ${formatMs(summary, 'ms')} · ${ratio.toFixed(2)} × node -e 0`);
}
const versionRatio = summarize(times.get('rehome --version') ?? []).median / baseline;
console.log(
  `--version: ${versionRatio.toFixed(2)} × node -e 0 (goal ≤ ${GOAL_RATIO}): ${versionRatio <= GOAL_RATIO ? 'met' : 'NOT met'}`,
);

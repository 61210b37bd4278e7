import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { parseConfigText } from '../../src/config/config-file.js';
import { migrationSettings } from '../../src/migration/settings.js';

const readme = readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md'),
  'utf8',
);

test('the config example in README.md is a valid rehome config', (t) => {
  const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) return t.fail('README.md has no yaml example');
  const { config } = parseConfigText('README.md', block);
  t.is(config.hosts[0]?.name, 'hv1');
  t.is(config.notify?.operator?.address, 'ops@example.net');
  t.is(migrationSettings(config).pauseBoundMs, 1000);
});

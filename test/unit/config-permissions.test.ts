import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfigFile } from '../../src/app/config-load.js';
import { configFileWarnings } from '../../src/config/config-file.js';

test('a config file others can read or write is warned about; 0600 and 0640 are not', (t) => {
  t.deepEqual(configFileWarnings('/c.yaml', 0o100600), []);
  t.deepEqual(configFileWarnings('/c.yaml', 0o100640), []);
  t.regex(
    configFileWarnings('/c.yaml', 0o100644).join('\n'),
    /can be read by every user.*secrets.*chmod o-r/,
  );
  t.regex(configFileWarnings('/c.yaml', 0o100666).join('\n'), /can be written by every user/);
});

test('loading a world-readable config hands the warning to the caller once, as data', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rehome-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'hosts: []\nnotify:\n  smtp:\n    host: mail.example\n    from: r@example.com\n');
  chmodSync(file, 0o644);
  const heard: string[] = [];
  const paths = { configDir: dir, dataDir: dir, onWarning: (message: string) => heard.push(message) };
  const loaded = await loadConfigFile(paths);
  t.is(loaded.warnings?.length, 1);
  await loadConfigFile(paths);
  t.is(heard.length, 1, 'once per process');
  t.true(heard[0]?.includes(file));
  chmodSync(file, 0o600);
  t.is((await loadConfigFile(paths)).warnings, undefined);
});

import { spawnSync } from 'node:child_process';
import test from 'ava';

const DOMAIN_FOLDERS = [
  'migration',
  'drain',
  'inventory',
  'placement',
  'sync',
  'notify',
  'store',
  'libvirt',
  'host',
  'config',
  'disks',
  'doctor',
];

test('no domain folder imports the CLI or the application layer', (t) => {
  const grep = spawnSync(
    'grep',
    ['-rnE', String.raw`from '(\.\./)+(cli|app)/`, ...DOMAIN_FOLDERS.map((f) => `src/${f}`)],
    {
      encoding: 'utf8',
    },
  );
  t.is(grep.status, 1, `grep found (or failed):\n${grep.stdout}${grep.stderr}`);
});

test('the application layer does not reach up into the CLI edge', (t) => {
  const grep = spawnSync('grep', ['-rnE', String.raw`from '(\.\./)+cli/`, 'src/app'], { encoding: 'utf8' });
  t.is(grep.status, 1, `grep found (or failed):\n${grep.stdout}${grep.stderr}`);
});

test('XML is parsed through libvirtXmlParser only: every reader sees line ends as libvirt does', (t) => {
  const grep = spawnSync('grep', ['-rn', 'new DOMParser', 'src', '--exclude=dom.ts'], { encoding: 'utf8' });
  t.is(grep.status, 1, `grep found (or failed):\n${grep.stdout}${grep.stderr}`);
});

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';

const vagrantDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../vagrant');

test('vagrant validate accepts the multi-host Vagrantfile', async (t) => {
  const result = await execa('vagrant', ['validate'], {
    cwd: vagrantDir,
    reject: false,
    env: { VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_DEFAULT_PROVIDER: 'libvirt' },
  });
  t.is(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
  t.regex(result.stdout, /Vagrantfile validated successfully/);
});

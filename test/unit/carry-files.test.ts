import { execFileSync } from 'node:child_process';
import test from 'ava';
import { carryTree, parseFindOutput } from '../../src/sync/carry-files.js';
import { ustar } from '../../src/sync/ustar.js';
import { Lab } from '../fake/engine-harness.js';
import type { RemoteShell } from '../fake/src-imports.js';

const NVRAM = '/var/lib/libvirt/qemu/nvram/vm1_VARS.fd';

test('find output: files and directories with owners and modes, parents first, spaces kept', (t) => {
  const out = 'f 600 tss tss 103 111 12 /s/a b/c\0d 700 tss tss 103 111 4096 /s/a b\0';
  t.deepEqual(parseFindOutput(out, 'h'), [
    { type: 'dir', path: '/s/a b', mode: '700', owner: 'tss', group: 'tss', uid: 103, gid: 111 },
    { type: 'file', path: '/s/a b/c', mode: '600', owner: 'tss', group: 'tss', uid: 103, gid: 111, size: 12 },
  ]);
  t.throws(() => parseFindOutput('l 777 root root 0 0 7 /s/link\0', 'h'), {
    message: /neither a file nor a directory/,
  });
});

test('ustar: headers GNU tar accepts (checksum, owner names, prefix for long paths), data padded to blocks', (t) => {
  const long = `${'d/'.repeat(60)}file`;
  const archive = ustar(
    [
      { type: 'dir', path: 'a', mode: '711', owner: 'root', group: 'root', uid: 0, gid: 0 },
      {
        type: 'file',
        path: long,
        mode: '600',
        owner: 'tss',
        group: 'tss',
        uid: 103,
        gid: 111,
        data: Buffer.from('x'),
      },
    ],
    0,
  );
  t.is(archive.length, 512 * 5);
  const second = archive.subarray(512, 1024);
  let sum = 0;
  for (const [i, byte] of second.entries()) sum += i >= 148 && i < 156 ? 32 : byte;
  t.is(Number.parseInt(second.subarray(148, 154).toString(), 8), sum);
  t.is(second.subarray(265, 268).toString(), 'tss');
  t.is(`${second.subarray(345, 345 + 119).toString()}/${second.subarray(0, 4).toString()}`, long);
  // And GNU tar reads it so: names, modes, owners, sizes.
  const listing = execFileSync('tar', ['-tvf', '-'], { input: archive }).toString().split('\n');
  t.regex(listing[0] ?? '', /^drwx--x--x root\/root +0 \S+ \S+ a\/$/);
  t.regex(listing[1] ?? '', new RegExp(`^-rw------- tss/tss +1 \\S+ \\S+ ${long}$`));
});

test('a copy that reads back different on the target is refused, and the source is only read', async (t) => {
  const lab = new Lab(t, { nvram: true, tpm: true });
  const hosts = lab.process('carry').session.hosts;
  const from = await hosts.ssh('src');
  const real = await hosts.ssh('dst');
  // A target whose disk flips the last data byte of the archive: what it stores is not what was sent.
  const corrupting: RemoteShell = {
    name: real.name,
    exec: (argv, options) => {
      if (argv[0] !== 'tar' || !Buffer.isBuffer(options?.stdin)) return real.exec(argv, options);
      const stdin = Buffer.from(options.stdin);
      const last = stdin.length - 1024 - 512;
      let i = last;
      while (i > 0 && stdin[i] === 0) i--;
      stdin[i] = (stdin[i] ?? 0) ^ 1;
      return real.exec(argv, { ...options, stdin });
    },
  };
  const roots = [NVRAM, `/var/lib/libvirt/swtpm/${lab.guest.uuid}`];
  await t.throwsAsync(carryTree(from, corrupting, roots), { message: /differs from the source \(sha256 of/ });
  const carried = await carryTree(from, real, roots);
  t.deepEqual(
    carried.map((e) => `${e.type} ${e.mode} ${e.owner} ${e.path.split('/').pop()}`),
    [
      'file 600 libvirt-qemu vm1_VARS.fd',
      'dir 711 root 6f1e1c2a-0d3b-4b7e-9a51-3c0d2e4f5a61',
      'dir 700 tss tpm2',
      'file 600 tss tpm2-00.permall',
    ],
  );
  const source = lab.fake.host('src').files.get(NVRAM);
  const target = lab.fake.host('dst').files.get(NVRAM);
  t.true(source?.kind === 'blob' && target?.kind === 'blob' && source.data.equals(target.data));
  t.deepEqual(
    lab.fake.host('src').commands.map((argv) => argv[0]),
    ['find', 'sha256sum', 'od', 'find', 'sha256sum', 'od'],
    'the source is only read',
  );
  await t.throwsAsync(carryTree(from, real, ['/var/lib/libvirt/swtpm/missing']), {
    message: /find on src exited 1/,
  });
  await t.throwsAsync(carryTree(from, real, ['/var/lib/../etc']), { message: /not a plain absolute path/ });
});

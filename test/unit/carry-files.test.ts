import test from 'ava';
import { carryTree, parseFindOutput } from '../../src/sync/carry-files.js';
import { Lab } from '../fake/engine-harness.js';
import type { FakeHost } from '../fake/fake-host.js';
import type { RemoteShell } from '../fake/src-imports.js';

const NVRAM = '/var/lib/libvirt/qemu/nvram/vm1_VARS.fd';
/** Like an OVMF variable store: mostly 0xff, with NULs and bytes that are not UTF-8. */
const VARS = Buffer.concat([
  Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a]),
  Buffer.alloc(4096, 0xff),
]);

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

function blobOf(host: FakeHost, path: string): Buffer | undefined {
  const file = host.files.get(path);
  return file?.kind === 'blob' ? file.data : undefined;
}

/** The target as `to`, with `after` run on the fake host once its `tar -x` returned. */
function afterUntar(real: RemoteShell, after: () => void): RemoteShell {
  return {
    name: real.name,
    exec: async (argv, options) => {
      const result = await real.exec(argv, options);
      if (argv[0] === 'tar') after();
      return result;
    },
  };
}

test('binary files go byte for byte through tar -c on the source and tar -x on the target, which only is written', async (t) => {
  const lab = new Lab(t, { nvram: true, tpm: true });
  const src = lab.fake.host('src');
  const dst = lab.fake.host('dst');
  const nvram = src.files.get(NVRAM);
  if (nvram?.kind === 'blob') nvram.data = Buffer.from(VARS);
  const hosts = lab.process('carry').session.hosts;
  const tpm = `/var/lib/libvirt/swtpm/${lab.guest.uuid}`;
  const carried = await carryTree(await hosts.ssh('src'), await hosts.ssh('dst'), [NVRAM, tpm]);
  t.deepEqual(
    carried.map(
      (e) => `${e.type} ${e.mode} ${e.owner}:${e.group} ${e.size ?? '-'} ${e.path.split('/').pop()}`,
    ),
    [
      `file 600 libvirt-qemu:libvirt-qemu ${VARS.length} vm1_VARS.fd`,
      'dir 711 root:root - 6f1e1c2a-0d3b-4b7e-9a51-3c0d2e4f5a61',
      'dir 700 tss:tss - tpm2',
      'file 600 tss:tss 40 tpm2-00.permall',
    ],
  );
  t.true(blobOf(dst, NVRAM)?.equals(VARS), 'the NVRAM bytes on the target');
  t.true(
    blobOf(dst, `${tpm}/tpm2/tpm2-00.permall`)?.equals(blobOf(src, `${tpm}/tpm2/tpm2-00.permall`) as Buffer),
  );
  t.deepEqual(dst.dirs.get(`${tpm}/tpm2`), { mode: '700', owner: 'tss', group: 'tss' });
  t.deepEqual(
    src.commands.map((argv) => argv.join(' ')),
    [
      `find ${NVRAM} ${tpm} -printf %y %m %u %g %U %G %s %p\\0`,
      `tar -c -f - -C / -- ${NVRAM.slice(1)} ${tpm.slice(1)}`,
      `sha256sum -- ${NVRAM} ${tpm}/tpm2/tpm2-00.permall`,
    ],
    'the source is only read',
  );
  t.deepEqual(
    dst.commands.map((argv) => argv.slice(0, 2).join(' ')),
    ['rm -rf', 'tar -x', 'sha256sum --', `find ${NVRAM}`],
  );
  t.deepEqual(dst.commands[1], ['tar', '-x', '-p', '--same-owner', '-f', '-', '-C', '/']);
});

test('a copy that reads back different on the target is refused, and so is a source that cannot be read', async (t) => {
  const lab = new Lab(t, { nvram: true, tpm: true });
  const dst = lab.fake.host('dst');
  const hosts = lab.process('carry').session.hosts;
  const from = await hosts.ssh('src');
  const to = await hosts.ssh('dst');
  const roots = [NVRAM, `/var/lib/libvirt/swtpm/${lab.guest.uuid}`];
  // A target whose disk flips a bit of what it stored: sizes and owners agree, the sha256 does not.
  const flipping = afterUntar(to, () => {
    const data = blobOf(dst, NVRAM) as Buffer;
    data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 1;
  });
  await t.throwsAsync(carryTree(from, flipping, roots), {
    message: new RegExp(`differs from the source \\(sha256 of ${NVRAM}\\)`),
  });
  // A target where a file is not there after the extraction: the listing says so.
  const permall = `${roots[1]}/tpm2/tpm2-00.permall`;
  const losing = afterUntar(to, () => dst.files.delete(permall));
  const lost = await t.throwsAsync(carryTree(from, losing, roots));
  t.regex(lost?.message ?? '', /differs from the source:\n/);
  t.true(lost?.message.endsWith(`file 600 tss:tss 40 ${permall}`), lost?.message);
  await t.notThrowsAsync(carryTree(from, to, roots));
  await t.throwsAsync(carryTree(from, to, ['/var/lib/libvirt/swtpm/missing']), {
    message: /(find|tar) on src exited [12]: .*No such file or directory/,
  });
  const sent = dst.commands.length;
  await t.throwsAsync(carryTree(from, to, ['/var/lib/../etc']), { message: /not a plain absolute path/ });
  t.is(dst.commands.length, sent, 'nothing is removed on the target for a path refused');
});

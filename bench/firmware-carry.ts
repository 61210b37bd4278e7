/**
 * bench/firmware-carry: the firmware carry (src/sync/carry-files.ts) between two lab hosts, against the bare transfer
 * of the same files (`tar -c` on the source, `tar -x` on the target, nothing checked), alternating, in one lab.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/firmware-carry.ts [--runs 10]
 *
 * The files are what a UEFI + vTPM guest leaves: Debian's 540 KiB OVMF_VARS_4M.fd as the NVRAM file, and a swtpm
 * state directory with a 20 KiB permall file, owned as libvirt keeps them. The difference is what listing and hashing
 * on both ends cost; the ratio (carry / bare) says how much of the carry is checking.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SshConnection } from '../src/host/ssh-connection.js';
import { carryTree } from '../src/sync/carry-files.js';
import { mustExec, mustExecBuffer } from '../src/sync/remote.js';
import { inHost } from '../test/lab/hosts.js';
import { operatorArgv, operatorFiles } from '../test/lab/operator.js';
import { labPaths } from '../test/lab/paths.js';
import { run } from '../test/lab/run.js';
import { log, withLab } from './lib/lab-session.js';
import { formatMs, ratio, summarize } from './lib/stats.js';

const NVRAM = '/var/lib/libvirt/qemu/nvram/bench_VARS.fd';
const TPM = '/var/lib/libvirt/swtpm/00000000-0000-4000-8000-00000000be1c';
const ROOTS = [NVRAM, TPM];
const { values } = parseArgs({ options: { runs: { type: 'string' }, inner: { type: 'boolean' } } });
const runs = Number(values.runs ?? 10);

/** In the operator namespace: connect to both hosts as rehome does, then time both ways, alternating. */
async function inner(): Promise<void> {
  const options = { configFile: operatorFiles().sshConfig, agentSocket: null };
  const [from, to] = await Promise.all([
    SshConnection.connect('lab-a', options),
    SshConnection.connect('lab-b', options),
  ]);
  const timed = async (body: () => Promise<unknown>) => {
    const started = performance.now();
    await body();
    return performance.now() - started;
  };
  const bare = async () => {
    const { stdout } = await mustExecBuffer(from, [
      'tar',
      '-c',
      '-f',
      '-',
      '-C',
      '/',
      '--',
      ...ROOTS.map((r) => r.slice(1)),
    ]);
    const untar = await to.exec(['tar', '-x', '-p', '--same-owner', '-f', '-', '-C', '/'], { stdin: stdout });
    if (untar.code !== 0) throw new Error(untar.stderr);
  };
  const carried: number[] = [];
  const bares: number[] = [];
  try {
    await carryTree(from, to, ROOTS); // warm: the first exec on a connection pays for more than the command
    for (let i = 0; i < runs; i++) {
      carried.push(await timed(() => carryTree(from, to, ROOTS)));
      await mustExec(to, ['rm', '-rf', '--', ...ROOTS]);
      bares.push(await timed(bare));
    }
  } finally {
    from.close();
    to.close();
  }
  const carry = summarize(carried);
  const plain = summarize(bares);
  console.log(`carryTree (list, hash, tar -c | tar -x, list, hash): ${formatMs(carry, 'ms')}`);
  console.log(`bare tar -c | tar -x, nothing checked:                ${formatMs(plain, 'ms')}`);
  console.log(`ratio carry / bare (medians): ${ratio(carry.median, plain.median)}`);
}

if (values.inner) await inner();
else {
  console.log(`bench/firmware-carry, ${runs} runs of each, ${new Date().toISOString()}`);
  await withLab(2, async () => {
    const permall = path.join(labPaths().root, 'bench-permall');
    await writeFile(permall, randomBytes(20 * 1024));
    for (const argv of [
      ['mkdir', '-p', path.dirname(NVRAM), `${TPM}/tpm2`],
      ['cp', '/usr/share/OVMF/OVMF_VARS_4M.fd', NVRAM],
      ['cp', permall, `${TPM}/tpm2/tpm2-00.permall`],
      ['chown', 'libvirt-qemu:libvirt-qemu', NVRAM],
      ['chown', '-R', 'tss:tss', `${TPM}/tpm2`],
      ['chmod', '600', NVRAM, `${TPM}/tpm2/tpm2-00.permall`],
      ['chmod', '711', TPM],
      ['chmod', '700', `${TPM}/tpm2`],
    ]) {
      const result = await inHost('lab-a', argv);
      if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} on lab-a: ${result.stderr}`);
    }
    log('seeded lab-a; timing from the operator namespace');
    const inner = ['node', '--import=tsx', 'bench/firmware-carry.ts', '--inner', '--runs', String(runs)];
    console.log((await run(operatorArgv(inner))).stdout);
  });
}

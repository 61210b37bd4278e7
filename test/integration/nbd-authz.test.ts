/**
 * The NBD export admits the source host's client certificate only: a real qemu-nbd started with rehome's argv, fleet
 * certificates made by the lab's own make-pki.sh, and qemu-img as the client with each host's certificate. Runs on
 * the loopback (127.0.0.2 is the "target"), no lab needed.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { qemuNbdArgv } from '../../src/sync/nbd-export.js';
import { certificateDn } from '../../src/sync/tls-identity.js';
import { freePort } from './ssh-sshd-helper.js';

const TARGET_ADDRESS = '127.0.0.2';
const state = {} as { dir: string; pki: string; port: number; pidFile: string };

test.before(async () => {
  state.dir = await mkdtemp(path.join(tmpdir(), 'rehome-nbd-authz-'));
  state.pki = path.join(state.dir, 'pki');
  const makePki = new URL('../lab/make-pki.sh', import.meta.url).pathname;
  // source, target (whose server certificate the export uses), and a third fleet host.
  await execa('sh', [makePki, state.pki, 'src=127.0.0.1', `tgt=${TARGET_ADDRESS}`, 'other=127.0.0.3']);
  const serverDir = path.join(state.dir, 'server');
  await mkdir(serverDir);
  for (const file of ['ca-cert.pem', 'server-cert.pem', 'server-key.pem'])
    await copyFile(path.join(state.pki, 'tgt', file), path.join(serverDir, file));
  const image = path.join(state.dir, 'target.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1M']);
  state.port = await freePort();
  state.pidFile = path.join(state.dir, 'qemu-nbd.pid');
  const sourceDn = certificateDn(
    await readFile(path.join(state.pki, 'src', 'client-cert.pem'), 'utf8'),
    'the source client certificate',
  );
  const [command, ...args] = qemuNbdArgv(
    {
      host: 'tgt',
      disk: 'vda',
      bindAddress: TARGET_ADDRESS,
      imagePath: image,
      virtualSizeBytes: 1024 * 1024,
      exportName: 'authz',
      certDir: serverDir,
      allowedClientDn: sourceDn,
      runDir: state.dir,
    },
    state.port,
    state.pidFile,
  );
  await execa(command as string, args);
});

test.after.always(async () => {
  const pid = Number(await readFile(state.pidFile, 'utf8').catch(() => '0'));
  if (pid > 0) process.kill(pid, 'SIGTERM');
  if (state.dir) await rm(state.dir, { recursive: true, force: true });
});

/** qemu-img info through the export, as host `client` with its own client certificate. */
function readAs(client: string) {
  return execa(
    'qemu-img',
    [
      'info',
      '--object',
      `tls-creds-x509,id=tls0,endpoint=client,dir=${path.join(state.pki, client)}`,
      '--image-opts',
      `driver=nbd,host=${TARGET_ADDRESS},port=${state.port},export=authz,tls-creds=tls0`,
    ],
    { reject: false, timeout: 20_000 },
  );
}

test.serial("the source host's client certificate is accepted", async (t) => {
  const result = await readAs('src');
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /virtual size: 1 MiB/);
});

test.serial("the target's own client certificate is refused", async (t) => {
  const result = await readAs('tgt');
  t.not(result.exitCode, 0);
  t.regex(result.stderr, /TLS|connection abort/i);
});

test.serial("a third fleet host's client certificate is refused", async (t) => {
  const result = await readAs('other');
  t.not(result.exitCode, 0);
  t.regex(result.stderr, /TLS|connection abort/i);
});

test('the DN is the subject in certificate order, as QEMU compares it', async (t) => {
  const pem = await readFile(path.join(state.pki, 'other', 'client-cert.pem'), 'utf8');
  t.is(certificateDn(pem, 'x'), 'O=rehome,CN=other');
  t.throws(() => certificateDn('not a certificate', 'x'), { message: /not a PEM certificate/ });
});

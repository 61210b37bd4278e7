/**
 * The NBD export as rehome starts it: it admits the source host's client certificate only, and its connections have
 * TCP_NODELAY. A real qemu-nbd started with rehome's argv, fleet certificates made by the lab's own make-pki.sh, and
 * qemu-img as the client with each host's certificate. Runs on the loopback (127.0.0.2 is the "target"), no lab needed.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { qemuNbdArgv } from '../../src/sync/nbd-export.js';
import { certificateDn } from '../../src/sync/tls-identity.js';
import { freePort } from './ssh-sshd-helper.js';

const TARGET_ADDRESS = '127.0.0.2';
const state = {} as {
  dir: string;
  pki: string;
  port: number;
  pidFile: string;
  argv: string[];
  pids: number[];
};

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
  state.argv = qemuNbdArgv(
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
  state.pids = [];
  state.pids.push(await startForked(state.argv, state.pidFile));
});

test.after.always(async () => {
  for (const pid of state.pids ?? []) process.kill(pid, 'SIGTERM');
  if (state.dir) await rm(state.dir, { recursive: true, force: true });
});

/** Runs a qemu-nbd argv with --fork=… and returns the pid it wrote. */
async function startForked(argv: readonly string[], pidFile: string): Promise<number> {
  const [command, ...args] = argv;
  await execa(command as string, args);
  return Number(await readFile(pidFile, 'utf8'));
}

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

/**
 * TCP_NODELAY of the connection that process `pid` has from local port `peerPort`: the socket is copied out of the
 * process with pidfd_getfd (434 and 438 are pidfd_open and pidfd_getfd on every Linux architecture) and asked.
 */
const NODELAY_PROBE = [
  'use strict; use warnings; use Socket qw(IPPROTO_TCP TCP_NODELAY unpack_sockaddr_in);',
  'my ($pid, $peer_port) = @ARGV;',
  'my $pidfd = syscall(434, $pid + 0, 0); die "pidfd_open: $!\\n" if $pidfd < 0;',
  'for my $link (glob "/proc/$pid/fd/*") {',
  '  next unless (readlink($link) // "") =~ /^socket:/;',
  '  my ($number) = $link =~ m{/(\\d+)$};',
  '  my $fd = syscall(438, $pidfd, $number + 0, 0); next if $fd < 0;',
  '  open(my $socket, "+<&=", $fd) or next;',
  '  my $peer = getpeername($socket) or next;',
  '  my ($port) = eval { unpack_sockaddr_in($peer) }; next unless defined $port && $port == $peer_port;',
  '  print unpack("i", getsockopt($socket, IPPROTO_TCP, TCP_NODELAY)), "\\n"; exit 0;',
  '}',
  'die "no connection from port $peer_port in process $pid\\n";',
].join('\n');

/** Connects to address:port, waits for the server's first bytes (accepted), and returns TCP_NODELAY of its side. */
async function serverNoDelay(pid: number, port: number): Promise<number> {
  const client = net.connect(port, TARGET_ADDRESS);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('data', () => resolve());
      client.once('error', reject);
    });
    const probe = await execa('perl', ['-e', NODELAY_PROBE, String(pid), String(client.localPort)]);
    return Number(probe.stdout.trim());
  } finally {
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.destroy();
    await closed;
  }
}

test.serial("the export's connections have TCP_NODELAY; qemu-nbd's own listener leaves it off", async (t) => {
  t.is(await serverNoDelay(state.pids[0] as number, state.port), 1, 'rehome argv: Nagle off');
  // The same qemu-nbd listening by itself (-b, -p): the reason for the listener, and proof the probe can tell.
  const image = path.join(state.dir, 'plain.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1M']);
  const port = await freePort();
  const pidFile = path.join(state.dir, 'plain.pid');
  const qemuNbd = state.argv.slice(state.argv.indexOf('qemu-nbd'), -1);
  const plain = [
    ...qemuNbd.map((arg) => (arg.startsWith('--pid-file=') ? `--pid-file=${pidFile}` : arg)),
    '-b',
    TARGET_ADDRESS,
    '-p',
    String(port),
    image,
  ];
  const pid = await startForked(plain, pidFile);
  state.pids.push(pid);
  t.is(await serverNoDelay(pid, port), 0, 'plain qemu-nbd: Nagle on');
});

test.serial('a port in use fails with the reason createExport retries on', async (t) => {
  // The export's own argv again: its port is taken by the export itself.
  const [command, ...args] = state.argv;
  const result = await execa(command as string, args, { reject: false });
  t.not(result.exitCode, 0);
  t.regex(result.stderr, /address already in use/i);
});

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** A real sshd on 127.0.0.1, with its own host key, root login by a temp client key. */
export interface TestSshd {
  dir: string;
  port: number;
  /** An `ssh -F` file that maps the alias `testhost` to this sshd and keeps root's ~/.ssh out of it. */
  sshConfigFile: string;
  knownHostsFile: string;
  hostKeyFile: string;
  /** Every line sshd wrote to stderr so far. */
  log: () => string;
  stop: () => Promise<void>;
}

export async function makeKey(file: string): Promise<void> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', file]);
}

export async function makeSshdDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rehome-sshd-'));
  await makeKey(join(dir, 'client_key'));
  await makeKey(join(dir, 'host_key_a'));
  await makeKey(join(dir, 'host_key_b'));
  await execa('cp', [join(dir, 'client_key.pub'), join(dir, 'authorized_keys')]);
  writeFileSync(join(dir, 'sshd_config'), 'StrictModes no\nPermitRootLogin prohibit-password\n');
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startSshd(dir: string, hostKeyFile: string, port?: number): Promise<TestSshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const listenPort = port ?? (await freePort());
  const knownHostsFile = join(dir, 'known_hosts');
  const sshConfigFile = join(dir, 'ssh_config');
  writeFileSync(
    sshConfigFile,
    [
      'Host testhost',
      '  HostName 127.0.0.1',
      `  Port ${listenPort}`,
      '  User root',
      `  IdentityFile ${join(dir, 'client_key')}`,
      `  UserKnownHostsFile ${knownHostsFile}`,
      '  GlobalKnownHostsFile /dev/null',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    '/usr/sbin/sshd',
    [
      '-D',
      '-e',
      '-f',
      join(dir, 'sshd_config'),
      '-o',
      `ListenAddress=127.0.0.1:${listenPort}`,
      '-o',
      `HostKey=${hostKeyFile}`,
      '-o',
      'UsePAM=no',
      '-o',
      `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`,
      '-o',
      `PidFile=${join(dir, 'sshd.pid')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start: ${log}`)), 10_000);
    const check = () => {
      if (log.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearTimeout(timer);
        reject(new Error(`sshd exited: ${log}`));
      } else setTimeout(check, 20);
    };
    check();
  });
  return {
    dir,
    port: listenPort,
    sshConfigFile,
    knownHostsFile,
    hostKeyFile,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.pid === undefined) return resolve();
        child.once('exit', () => resolve());
        process.kill(child.pid, 'SIGTERM');
      }),
  };
}

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import type { RehomeError } from '../../src/errors.js';
import { HostKeyChangedError, HostKeyUnknownError } from '../../src/host/host-key-errors.js';
import { fingerprintOf } from '../../src/host/known-hosts.js';
import { MAX_SESSION_CHANNELS, SshConnection } from '../../src/host/ssh-connection.js';
import { SshPool } from '../../src/host/ssh-pool.js';
import { makeSshdDir, startSshd, type TestSshd } from './ssh-sshd-helper.js';

// Module state rather than t.context: ava copies the context per test, and a test below restarts sshd.
const state = {} as { dir: string; sshd: TestSshd };

test.serial.before(async () => {
  state.dir = await makeSshdDir();
  state.sshd = await startSshd(state.dir, join(state.dir, 'host_key_a'));
});

test.serial.after.always(async () => {
  await state.sshd?.stop();
  if (state.dir) await rm(state.dir, { recursive: true, force: true });
});

/** A connection to the test sshd, its host key already known. */
function connectToTestSshd(): Promise<SshConnection> {
  return SshConnection.connect('testhost', { configFile: state.sshd.sshConfigFile, agentSocket: null });
}

function hostKeyFingerprint(pubFile: string): string {
  const blob = Buffer.from(readFileSync(pubFile, 'utf8').split(' ')[1] as string, 'base64');
  return fingerprintOf(blob);
}

test.serial('an unknown host key is refused, naming host and fingerprint', async (t) => {
  const { sshd, dir } = state;
  const error = await t.throwsAsync(
    SshConnection.connect('testhost', { configFile: sshd.sshConfigFile, agentSocket: null }),
    { instanceOf: HostKeyUnknownError },
  );
  const fingerprint = hostKeyFingerprint(join(dir, 'host_key_a.pub'));
  t.true(error?.message.includes(`[127.0.0.1]:${sshd.port}`), error?.message);
  t.true(error?.message.includes(fingerprint), error?.message);
  t.is(error?.kind, 'host-key');
  t.false(existsSync(sshd.knownHostsFile));
});

test.serial('accepted with the explicit flag, recorded, then known without it', async (t) => {
  const { sshd } = state;
  const added: string[] = [];
  const first = await SshConnection.connect('testhost', {
    configFile: sshd.sshConfigFile,
    agentSocket: null,
    acceptUnknownHostKeys: true,
    onHostKeyAdded: ({ file }) => added.push(file),
  });
  first.close();
  t.deepEqual(added, [sshd.knownHostsFile]);
  const line = readFileSync(sshd.knownHostsFile, 'utf8');
  t.true(line.startsWith(`[127.0.0.1]:${sshd.port} ssh-ed25519 `), line);

  const second = await SshConnection.connect('testhost', {
    configFile: sshd.sshConfigFile,
    agentSocket: null,
  });
  const result = await second.exec(['true']);
  second.close();
  t.is(result.code, 0);
  t.is(readFileSync(sshd.knownHostsFile, 'utf8'), line, 'a known key is not appended again');
});

test.serial('exec passes a hostile argv through unchanged and runs nothing from it', async (t) => {
  const { dir } = state;
  const pwned = join(dir, 'pwned');
  const hostile = `it's a "test" $(touch ${pwned}) \`touch ${pwned}\` ; touch ${pwned}\nline2 -n * ~`;
  const connection = await connectToTestSshd();
  const printed = await connection.exec(['printf', '%s', hostile]);
  const fromStdin = await connection.exec(['cat'], { stdin: hostile });
  const failing = await connection.exec(['sh', '-c', 'echo oops >&2; exit 7']);
  connection.close();
  t.is(printed.stdout, hostile);
  t.is(fromStdin.stdout, hostile);
  t.is(failing.code, 7);
  t.is(failing.stderr, 'oops\n');
  t.false(existsSync(pwned));
});

test.serial(
  'execBuffer gives stdout byte for byte, and a Buffer goes to stdin the same (a tar archive both ways)',
  async (t) => {
    const { dir } = state;
    // Every byte value, and sequences that are not UTF-8: a UTF-8 decode on the way would change them.
    const bytes = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.from([0xc3, 0x28]),
    ]);
    mkdirSync(join(dir, 'from/state'), { recursive: true });
    writeFileSync(join(dir, 'from/state/vars.fd'), bytes, { mode: 0o600 });
    const connection = await connectToTestSshd();
    try {
      const read = await connection.execBuffer(['cat', join(dir, 'from/state/vars.fd')]);
      t.true(Buffer.isBuffer(read.stdout) && read.stdout.equals(bytes));
      const text = await connection.exec(['cat', join(dir, 'from/state/vars.fd')]);
      t.false(Buffer.from(text.stdout).equals(bytes), 'exec decodes stdout as UTF-8: not for bytes');
      const archive = await connection.execBuffer([
        'tar',
        '-c',
        '-f',
        '-',
        '-C',
        join(dir, 'from'),
        '--',
        'state',
      ]);
      t.is(archive.code, 0, archive.stderr);
      mkdirSync(join(dir, 'to'));
      const untar = await connection.exec(['tar', '-x', '-p', '-f', '-', '-C', join(dir, 'to')], {
        stdin: archive.stdout,
      });
      t.is(untar.code, 0, untar.stderr);
      t.true(readFileSync(join(dir, 'to/state/vars.fd')).equals(bytes));
      t.is(statSync(join(dir, 'to/state/vars.fd')).mode & 0o777, 0o600);
    } finally {
      connection.close();
    }
  },
);

test.serial('exec times out', async (t) => {
  const connection = await connectToTestSshd();
  const started = Date.now();
  const error = await t.throwsAsync(connection.exec(['sleep', '5'], { timeoutMs: 300 }), {
    message: /sleep 5 on testhost timed out after 300 ms/,
  });
  t.like((error as RehomeError).subject, { code: 'timeout', host: 'testhost', command: 'sleep 5' });
  t.true(Date.now() - started < 3000);
  connection.close();
});

test.serial(
  'more commands at once than sshd allows sessions (MaxSessions 10): all run, the rest wait',
  async (t) => {
    const connection = await connectToTestSshd();
    const count = 3 * MAX_SESSION_CHANNELS;
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        connection.exec(['sh', '-c', 'sleep 0.3; echo "$1"', 'sh', String(i)]),
      ),
    );
    t.deepEqual(
      results.map((r) => r.stdout.trim()),
      Array.from({ length: count }, (_, i) => String(i)),
    );
    t.true(results.every((r) => r.code === 0));
    connection.close();
  },
);

async function connectWarm(warmShells: number): Promise<SshConnection> {
  const connection = await SshConnection.connect('testhost', {
    configFile: state.sshd.sshConfigFile,
    agentSocket: null,
    warmShells,
  });
  await until(() => connection.warmShellsIdle === warmShells);
  return connection;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test.serial(
  'commands run in warm shells without opening a channel: hostile argv, stdin, bytes, exit status',
  async (t) => {
    const { dir } = state;
    const pwned = join(dir, 'pwned-warm');
    const hostile = `it's a "test" $(touch ${pwned}) \`touch ${pwned}\` ; touch ${pwned}\nline2 -n * ~ '"$nl"'`;
    const connection = await connectWarm(3);
    try {
      const opened = connection.channelsOpened;
      const printed = await connection.exec(['printf', '%s', hostile]);
      const fromStdin = await connection.execBuffer(['cat'], { stdin: Buffer.from([0, 1, 255, 10, 0]) });
      const failing = await connection.exec(['sh', '-c', 'echo oops >&2; exit 7']);
      t.is(connection.channelsOpened, opened, 'a warm shell was there for each command');
      t.is(printed.stdout, hostile);
      t.true(fromStdin.stdout.equals(Buffer.from([0, 1, 255, 10, 0])));
      t.is(failing.code, 7);
      t.is(failing.stderr, 'oops\n');
      t.false(existsSync(pwned));
      // The pool was emptied: the next command opens its own channel, and the pool refills once things are quiet.
      t.is((await connection.exec(['echo', 'cold'])).stdout, 'cold\n');
      t.is(connection.channelsOpened, opened + 1);
      await until(() => connection.warmShellsIdle === 3);
      t.is((await connection.exec(['echo', 'warm again'])).stdout, 'warm again\n');
      t.is(connection.channelsOpened, opened + 4);
    } finally {
      connection.close();
    }
  },
);

test.serial('idle warm shells give their session channels to commands that need their own', async (t) => {
  const barrier = join(state.dir, 'barrier');
  mkdirSync(barrier);
  const connection = await connectWarm(4);
  try {
    // Streams never run in a warm shell. Each waits (5 s at most) until all have started: with four of the eight
    // slots held by idle shells, the last four start only if those shells give their slots back.
    const wait = `touch "$1/$2"; n=0; while [ "$(ls "$1" | wc -l)" -lt ${MAX_SESSION_CHANNELS} ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n+1)); done; ls "$1" | wc -l`;
    const started = await Promise.all(
      Array.from({ length: MAX_SESSION_CHANNELS }, async (_, i) => {
        const lines: string[] = [];
        for await (const line of connection.execLines(['sh', '-c', wait, 'sh', barrier, String(i)]))
          lines.push(line.trim());
        return lines.join();
      }),
    );
    t.deepEqual(started, Array(MAX_SESSION_CHANNELS).fill(String(MAX_SESSION_CHANNELS)));
  } finally {
    connection.close();
  }
});

test.serial('execLines streams long output line by line', async (t) => {
  const connection = await connectToTestSshd();
  const lines: string[] = [];
  for await (const line of connection.execLines(['seq', '1', '20000'])) lines.push(line);
  t.is(lines.length, 20000);
  t.is(lines[0], '1');
  t.is(lines[19999], '20000');
  await t.throwsAsync(
    (async () => {
      for await (const _ of connection.execLines(['sh', '-c', 'echo a; echo bad >&2; exit 3'])) {
      }
    })(),
    { message: /exited 3: bad/ },
  );
  connection.close();
});

test.serial('openUnixSocket reaches a Unix socket on the host', async (t) => {
  const { dir } = state;
  const { createServer } = await import('node:net');
  const socketPath = join(dir, 'echo.sock');
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const connection = await connectToTestSshd();
  const stream = await connection.openUnixSocket(socketPath);
  const echoed = await new Promise<string>((resolve) => {
    stream.once('data', (chunk: Buffer) => resolve(chunk.toString()));
    stream.write('ping');
  });
  stream.destroy();
  connection.close();
  server.close();
  t.is(echoed, 'ping');
});

test.serial('the pool reuses one TCP connection per host', async (t) => {
  const { sshd } = state;
  const accepted = () => sshd.log().split('Accepted publickey').length - 1;
  const before = accepted();
  const pool = new SshPool({ configFile: sshd.sshConfigFile, agentSocket: null });
  const [a, b] = await Promise.all([pool.get('testhost'), pool.get('testhost')]);
  const one = await a.exec(['echo', 'one']);
  const two = await (await pool.get('testhost')).exec(['echo', 'two']);
  await pool.closeAll();
  t.is(a, b);
  t.is(one.stdout + two.stdout, 'one\ntwo\n');
  t.is(accepted() - before, 1);
});

test.serial('ProxyJump with one hop, by alias or as user@host:port', async (t) => {
  const { sshd, dir } = state;
  const common = [
    '  User root',
    `  IdentityFile ${join(dir, 'client_key')}`,
    `  UserKnownHostsFile ${sshd.knownHostsFile}`,
    '  GlobalKnownHostsFile /dev/null',
  ];
  const configFile = join(dir, 'ssh_config_jump');
  writeFileSync(
    configFile,
    [
      readFileSync(sshd.sshConfigFile, 'utf8'),
      'Host jumped jumped2',
      '  HostName 127.0.0.1',
      `  Port ${sshd.port}`,
      ...common,
      'Host jumped',
      '  ProxyJump testhost',
      'Host jumped2',
      // 127.1 is 127.0.0.1 spelled so that OpenSSH does not see a jump loop; HostKeyAlias finds its known key.
      `  ProxyJump root@127.1:${sshd.port}`,
      'Host 127.1',
      `  HostKeyAlias [127.0.0.1]:${sshd.port}`,
      ...common,
      'Host twohops',
      '  ProxyJump a,b',
      '',
    ].join('\n'),
  );
  const accepted = () => sshd.log().split('Accepted publickey').length - 1;
  for (const alias of ['jumped', 'jumped2']) {
    const before = accepted();
    const connection = await SshConnection.connect(alias, { configFile, agentSocket: null });
    const result = await connection.exec(['echo', alias]);
    connection.close();
    t.is(result.stdout, `${alias}\n`);
    t.is(accepted() - before, 2, 'one session for the jump host, one through it');
  }
  await t.throwsAsync(SshConnection.connect('twohops', { configFile, agentSocket: null }), {
    message: /supports one jump host/,
  });
});

test.serial(
  'authenticates through ssh-agent when no identity file exists; a refused key is an auth error',
  async (t) => {
    const { sshd, dir } = state;
    const configFile = join(dir, 'ssh_config_agent');
    writeFileSync(
      configFile,
      readFileSync(sshd.sshConfigFile, 'utf8').replace(
        /IdentityFile .*/,
        `IdentityFile ${join(dir, 'absent_key')}`,
      ),
    );
    await t.throwsAsync(SshConnection.connect('testhost', { configFile, agentSocket: null }), {
      message: /No way to authenticate/,
    });
    const agentSocket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(agentSocket));
      await execa('ssh-add', ['-q', join(dir, 'client_key')], { env: { SSH_AUTH_SOCK: agentSocket } });
      const connection = await SshConnection.connect('testhost', { configFile, agentSocket });
      t.is((await connection.exec(['echo', 'via agent'])).stdout, 'via agent\n');
      connection.close();
      await execa('ssh-add', ['-q', '-D'], { env: { SSH_AUTH_SOCK: agentSocket } });
      await execa('ssh-add', ['-q', join(dir, 'host_key_b')], { env: { SSH_AUTH_SOCK: agentSocket } });
      const error = await t.throwsAsync(SshConnection.connect('testhost', { configFile, agentSocket }));
      t.regex(error?.message ?? '', /SSH authentication to root@127\.0\.0\.1:\d+ failed/);
      t.is((error as { kind?: string }).kind, 'unreachable');
    } finally {
      if (agent.pid) process.kill(agent.pid, 'SIGTERM');
    }
  },
);

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

test.serial('a changed host key is refused even with acceptUnknownHostKeys', async (t) => {
  const { sshd, dir } = state;
  await sshd.stop();
  const restarted = await startSshd(dir, join(dir, 'host_key_b'), sshd.port);
  state.sshd = restarted;
  const before = readFileSync(restarted.knownHostsFile, 'utf8');
  const error = await t.throwsAsync(
    SshConnection.connect('testhost', {
      configFile: restarted.sshConfigFile,
      agentSocket: null,
      acceptUnknownHostKeys: true,
    }),
    { instanceOf: HostKeyChangedError },
  );
  t.true(error?.message.includes(hostKeyFingerprint(join(dir, 'host_key_b.pub'))), error?.message);
  t.true(error?.message.includes(`[127.0.0.1]:${restarted.port}`));
  t.is(readFileSync(restarted.knownHostsFile, 'utf8'), before);
});

test.serial('an unreachable host is an unreachable error', async (t) => {
  const { sshd } = state;
  await sshd.stop();
  const error = await t.throwsAsync(
    SshConnection.connect('testhost', { configFile: sshd.sshConfigFile, agentSocket: null }),
  );
  t.is((error as { kind?: string }).kind, 'unreachable');
  t.regex(error?.message ?? '', /Cannot connect/);
});

test.serial(
  'a host that accepts TCP but never speaks SSH fails the connect, and nothing throws after it',
  async (t) => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      socket.on('error', () => {});
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const configFile = join(state.dir, 'ssh_config_silent');
    writeFileSync(
      configFile,
      [
        'Host silent',
        '  HostName 127.0.0.1',
        `  Port ${port}`,
        '  User root',
        '  ConnectTimeout 1',
        `  IdentityFile ${join(state.dir, 'client_key')}`,
        `  UserKnownHostsFile ${join(state.dir, 'known_hosts_silent')}`,
        '',
      ].join('\n'),
    );
    const uncaught: Error[] = [];
    const onUncaught = (err: Error) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    t.teardown(() => {
      process.off('uncaughtException', onUncaught);
      server.close();
    });
    const error = await t.throwsAsync(
      SshConnection.connect('silent', { configFile, agentSocket: null, defaultKeepaliveMs: 0 }),
      { message: /Cannot connect|handshake/ },
    );
    t.is((error as { kind?: string }).kind, 'unreachable');
    // The peer now drops the TCP connection: ssh2 reports "Connection lost before handshake" a second time.
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.deepEqual(
      uncaught.map((e) => e.message),
      [],
    );
  },
);

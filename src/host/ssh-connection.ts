import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Duplex, Readable } from 'node:stream';
import {
  type AnyAuthMethod,
  Client,
  type ClientChannel,
  type ConnectConfig,
  type ServerHostKeyAlgorithm,
} from 'ssh2';
import { RehomeError, timeoutError } from '../errors.js';
import {
  CUED_SHELL_ARGV,
  type CuedChannel,
  channelDone,
  cuedChannel,
  cueFor,
  WarmShells,
} from './cued-shell.js';
import { type HostKeyPolicy, knownKeyTypesFor, verifyHostKey } from './known-hosts.js';
import { quoteArgv } from './quote.js';
import { type ResolvedSshHost, resolveSshHost, type SshConfigOptions } from './ssh-config.js';

export interface SshConnectOptions extends SshConfigOptions {
  /** Record keys of hosts not yet in known_hosts instead of refusing them. A changed key is refused regardless. */
  acceptUnknownHostKeys?: boolean;
  /** Defaults to SSH_AUTH_SOCK; pass `null` to not use an agent. */
  agentSocket?: string | null;
  /** Used when ssh -G sets no ServerAliveInterval. */
  defaultKeepaliveMs?: number;
  /** Used when ssh -G sets no ConnectTimeout. */
  defaultConnectTimeoutMs?: number;
  /** Called when a key was appended to known_hosts (so a command can say so on stderr). */
  onHostKeyAdded?: (event: { host: string; file: string }) => void;
  /**
   * Shells kept open on the host, each waiting for one command (cued-shell.ts), for a process that must run commands
   * quickly at a moment it cannot foresee (a cutover): default 0. Not for a jump host.
   */
  warmShells?: number;
}

export interface ExecOptions {
  /** Written to the command's stdin as given (a string as UTF-8, a Buffer byte for byte), then closed. */
  stdin?: string | Buffer;
  timeoutMs?: number;
}

/** stdout is text (UTF-8) from `exec`, bytes from `execBuffer`; stderr is always text. */
export interface ExecResult<Stdout extends string | Buffer = string> {
  stdout: Stdout;
  stderr: string;
  /** `null` when the remote command died from a signal. */
  code: number | null;
  signal?: string;
}

export interface ExecStream {
  stdout: Readable;
  stderr: Readable;
  /** Settles when the remote command has exited. */
  done: Promise<{ code: number | null; signal?: string }>;
  /** Close the channel early. */
  close(): void;
}

/**
 * Session channels (commands) open at once on one connection. sshd refuses more than MaxSessions (10 by default)
 * with "open failed"; steps that run side by side can ask for more (a cutover closing four exports opens twelve), so
 * the rest wait for a free one, in the order asked (a `tail --pid` never holds up the `kill` asked before it).
 */
export const MAX_SESSION_CHANNELS = 8;

/** One SSH connection to one host. Every remote command is an argv, quoted by `quoteArgv`. */
export class SshConnection {
  private closed = false;
  private sessionsOpen = 0;
  private opened = 0;
  private readonly sessionWaiters: (() => void)[] = [];
  private readonly warm: WarmShells | undefined;

  private constructor(
    readonly name: string,
    readonly resolved: ResolvedSshHost,
    private readonly client: Client,
    private readonly jump?: SshConnection,
    warmShells = 0,
  ) {
    client.on('close', () => {
      this.closed = true;
      this.warm?.stop();
      this.jump?.close();
    });
    if (warmShells > 0) {
      this.warm = new WarmShells(warmShells, () => this.openCuedIfFree());
      this.warm.fill();
    }
  }

  /** Resolve `destination` with `ssh -G`, verify the host key against known_hosts, and authenticate. */
  static async connect(destination: string, options: SshConnectOptions = {}): Promise<SshConnection> {
    return SshConnection.connectResolved(
      destination,
      await resolveSshHost(destination, options),
      options,
      false,
    );
  }

  private static async connectResolved(
    name: string,
    resolved: ResolvedSshHost,
    options: SshConnectOptions,
    isJump: boolean,
  ): Promise<SshConnection> {
    let jump: SshConnection | undefined;
    let sock: Readable | undefined;
    if (resolved.proxyJump) {
      if (isJump) {
        throw new RehomeError(
          `Jump host ${name} has its own ProxyJump: rehome supports a single hop`,
          'config',
        );
      }
      const hop = parseSingleJump(resolved.proxyJump);
      const hopResolved = await resolveSshHost(hop.host, options, hop);
      jump = await SshConnection.connectResolved(hop.host, hopResolved, options, true);
    }
    try {
      if (jump) sock = await jump.forwardOut(resolved.hostname, resolved.port);
      const client = await openClient(resolved, options, sock);
      return new SshConnection(name, resolved, client, jump, isJump ? 0 : options.warmShells);
    } catch (err) {
      jump?.close();
      throw err;
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Session channels opened so far (commands, cued shells): what a command run in a warm shell does not add to. */
  get channelsOpened(): number {
    return this.opened;
  }

  /** Cued shells open and waiting for a command (SshConnectOptions.warmShells). */
  get warmShellsIdle(): number {
    return this.warm?.idleCount ?? 0;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.execBuffer(argv, options);
    return { ...result, stdout: result.stdout.toString('utf8') };
  }

  /** `exec` for a command whose stdout is bytes, not text (an archive): stdout as the command wrote it. */
  async execBuffer(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult<Buffer>> {
    const startedAt = Date.now();
    const warm = this.warm?.take();
    if (warm) return this.runCued(warm, argv, options, startedAt);
    const channel = await this.boundedOpen(this.openExec(argv), argv, options.timeoutMs);
    return this.collect(channel, argv, options, startedAt);
  }

  /** Sends argv to a cued shell (its line, then stdin) and collects the command's output and exit. */
  private runCued(
    cued: CuedChannel,
    argv: readonly string[],
    options: ExecOptions,
    startedAt: number,
  ): Promise<ExecResult<Buffer>> {
    return this.collect(
      cued.channel,
      argv,
      { ...options, stdin: cueFor(argv, options.stdin) },
      startedAt,
      cued.done,
    );
  }

  private async openCued(): Promise<CuedChannel> {
    return cuedChannel(await this.openExec(CUED_SHELL_ARGV));
  }

  /** For the warm pool: a cued shell only if a session slot is free now (the pool never queues behind commands). */
  private openCuedIfFree(): Promise<CuedChannel> {
    if (this.closed || this.sessionsOpen >= MAX_SESSION_CHANNELS)
      return Promise.reject(new Error('no free session channel'));
    return this.openCued();
  }

  /** The bound covers opening the channel too: over a link that went dead, the open is what never answers. */
  private boundedOpen(
    opening: Promise<ClientChannel>,
    argv: readonly string[],
    timeoutMs: number | undefined,
  ): Promise<ClientChannel> {
    return withTimeout(opening, timeoutMs, () => {
      // A channel that opens after the timeout is closed at once: it must not hold a session slot.
      opening.then((late) => late.close()).catch(() => undefined);
      return this.timedOut(argv, timeoutMs);
    });
  }

  private timedOut(argv: readonly string[], timeoutMs: number | undefined): RehomeError {
    return timeoutError({ host: this.name, command: quoteArgv(argv), timeoutMs: timeoutMs as number });
  }

  /** Writes stdin (or closes it), reads stdout and stderr until the command exits, within what is left of the bound. */
  private async collect(
    channel: ClientChannel,
    argv: readonly string[],
    options: ExecOptions,
    startedAt: number,
    done = channelDone(channel),
  ): Promise<ExecResult<Buffer>> {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (options.stdin !== undefined) channel.end(options.stdin);
    else channel.end();
    const left = options.timeoutMs ? Math.max(1, options.timeoutMs - (Date.now() - startedAt)) : undefined;
    const exit = await withTimeout(done, left, () => {
      channel.close();
      return this.timedOut(argv, options.timeoutMs);
    });
    return {
      stdout: Buffer.concat(stdout),
      stderr: Buffer.concat(stderr).toString('utf8'),
      ...exit,
    };
  }

  /** For long output: read `stdout` as it comes; `done` gives the exit code. */
  async execStream(argv: readonly string[]): Promise<ExecStream> {
    const channel = await this.openExec(argv);
    channel.end();
    return {
      stdout: channel,
      stderr: channel.stderr,
      done: channelDone(channel),
      close: () => channel.close(),
    };
  }

  /** Lines of stdout as they arrive; throws a RehomeError when the command exits non-zero. */
  async *execLines(argv: readonly string[]): AsyncGenerator<string> {
    const stream = await this.execStream(argv);
    const stderr: Buffer[] = [];
    stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let finished = false;
    try {
      yield* createInterface({ input: stream.stdout, crlfDelay: Number.POSITIVE_INFINITY });
      finished = true;
    } finally {
      // Only when the consumer stopped early: otherwise let the exit status arrive.
      if (!finished) stream.close();
    }
    const exit = await stream.done;
    if (exit.code !== 0) {
      throw new RehomeError(
        `Remote command on ${this.name} exited ${exit.code ?? exit.signal}: ${Buffer.concat(stderr).toString('utf8').trim()}`,
        'internal',
      );
    }
  }

  /** A byte stream to a Unix socket on the host (e.g. /run/libvirt/libvirt-sock). */
  openUnixSocket(path: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.client.openssh_forwardOutStreamLocal(path, (err, channel) => {
        // The cause keeps ssh2's `reason` (1: administratively prohibited, i.e. sshd refuses stream-local forwarding).
        if (err)
          reject(
            new RehomeError(`Cannot open ${path} on ${this.name}: ${err.message}`, 'unreachable', [], {
              cause: err,
            }),
          );
        else resolve(channel);
      });
    });
  }

  /** A TCP stream from the host to `host:port` (ProxyJump uses it). */
  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
        if (err) {
          reject(
            new RehomeError(
              `Jump host ${this.name} cannot reach ${host}:${port}: ${err.message}`,
              'unreachable',
            ),
          );
        } else resolve(channel);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.warm?.stop();
    this.client.end();
    this.jump?.close();
  }

  private async openExec(argv: readonly string[]): Promise<ClientChannel> {
    const command = quoteArgv(argv);
    await this.sessionSlot();
    return new Promise((resolve, reject) => {
      if (this.closed) {
        this.releaseSession();
        reject(new RehomeError(`The SSH connection to ${this.name} is closed`, 'unreachable'));
        return;
      }
      this.client.exec(command, (err, channel) => {
        if (err) {
          this.releaseSession();
          reject(new RehomeError(`Cannot run a command on ${this.name}: ${err.message}`, 'unreachable'));
        } else {
          this.opened++;
          channel.once('close', () => this.releaseSession());
          resolve(channel);
        }
      });
    });
  }

  private async sessionSlot(): Promise<void> {
    if (this.sessionsOpen < MAX_SESSION_CHANNELS) {
      this.sessionsOpen++;
      return;
    }
    const slot = new Promise<void>((resolve) => this.sessionWaiters.push(resolve));
    // An idle warm shell gives its slot to a command that needs a channel of its own.
    this.warm?.releaseOne();
    await slot;
  }

  /** A closed channel's slot goes to the first waiter, or back to the pool. */
  private releaseSession(): void {
    const next = this.sessionWaiters.shift();
    if (next) next();
    else this.sessionsOpen--;
  }
}

export interface JumpHop {
  host: string;
  user?: string;
  port?: number;
}

/** `[user@]host[:port]`, one hop. Several hops or a URI are refused rather than half-supported. */
export function parseSingleJump(proxyJump: string): JumpHop {
  if (proxyJump.includes(',') || proxyJump.includes('://')) {
    throw new RehomeError(
      `ProxyJump ${proxyJump} is not supported: rehome supports one jump host written as [user@]host[:port]`,
      'config',
      ['Give the jump host its own Host entry in your ssh config, and use a single ProxyJump to it'],
    );
  }
  const match = /^(?:([^@\s]+)@)?([^:@\s[\]]+|\[[^\]]+\])(?::(\d+))?$/.exec(proxyJump);
  if (!match) throw new RehomeError(`Cannot parse ProxyJump ${proxyJump}`, 'config');
  const hop: JumpHop = { host: (match[2] as string).replace(/^\[(.*)\]$/, '$1') };
  if (match[1]) hop.user = match[1];
  if (match[3]) hop.port = Number(match[3]);
  return hop;
}

async function openClient(
  resolved: ResolvedSshHost,
  options: SshConnectOptions,
  sock: Readable | undefined,
): Promise<Client> {
  const policy: HostKeyPolicy = {
    host: resolved.hostKeyAlias ?? resolved.hostname,
    port: resolved.hostKeyAlias ? 22 : resolved.port,
    userKnownHostsFiles: resolved.userKnownHostsFiles,
    globalKnownHostsFiles: resolved.globalKnownHostsFiles,
    acceptUnknown: options.acceptUnknownHostKeys === true || resolved.strictHostKeyChecking === 'accept-new',
    hashNewEntries: resolved.hashKnownHosts,
  };
  const hostKeyAlgorithms = hostKeyAlgorithmsFor(await knownKeyTypesFor(policy));
  const auth = await authMethods(resolved, options);
  const client = new Client();
  let hostKeyError: Error | undefined;
  const config: ConnectConfig = {
    host: resolved.hostname,
    port: resolved.port,
    username: resolved.user,
    sock,
    authHandler: auth,
    keepaliveInterval:
      resolved.serverAliveInterval > 0
        ? resolved.serverAliveInterval * 1000
        : (options.defaultKeepaliveMs ?? 15_000),
    keepaliveCountMax: resolved.serverAliveCountMax,
    readyTimeout: resolved.connectTimeout
      ? resolved.connectTimeout * 1000
      : (options.defaultConnectTimeoutMs ?? 20_000),
    algorithms: hostKeyAlgorithms ? { serverHostKey: hostKeyAlgorithms } : undefined,
    hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
      verifyHostKey(policy, key).then(
        (verdict) => {
          if (verdict.status === 'added') options.onHostKeyAdded?.({ host: policy.host, file: verdict.file });
          verify(true);
        },
        (err: Error) => {
          hostKeyError = err;
          verify(false);
        },
      );
    },
  };
  return new Promise((resolve, reject) => {
    const onError = (err: Error & { level?: string }) => {
      client.removeListener('ready', onReady);
      // ssh2 may emit a second 'error' after end() (a host that accepts TCP but never speaks SSH: "Connection lost
      // before handshake"); with no listener left, that one would end the process.
      client.on('error', () => {});
      client.end();
      reject(hostKeyError ?? mapConnectError(resolved, err));
    };
    const onReady = () => {
      client.removeListener('error', onError);
      client.setNoDelay(true);
      // Later errors (a dropped connection) surface as failed execs; keep them from crashing the process.
      client.on('error', () => {});
      resolve(client);
    };
    client.once('error', onError);
    client.once('ready', onReady);
    client.connect(config);
  });
}

async function authMethods(resolved: ResolvedSshHost, options: SshConnectOptions): Promise<AnyAuthMethod[]> {
  const username = resolved.user;
  const methods: AnyAuthMethod[] = [];
  const agent = options.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : options.agentSocket;
  if (agent) methods.push({ type: 'agent', username, agent });
  for (const file of resolved.identityFiles) {
    const key = await readFile(file).catch(() => undefined);
    if (key) methods.push({ type: 'publickey', username, key });
  }
  if (methods.length === 0) {
    throw new RehomeError(
      `No way to authenticate to ${resolved.alias}: no ssh-agent (SSH_AUTH_SOCK) and none of its identity files exist`,
      'unreachable',
      [`Identity files tried: ${resolved.identityFiles.join(', ') || '(none)'}`],
    );
  }
  return methods;
}

const SUPPORTED_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * ssh2 does not order host key algorithms by what known_hosts holds, as OpenSSH does; without this, a host known
 * only by its RSA key would present ed25519 and look changed.
 */
function hostKeyAlgorithmsFor(keyTypes: string[]): ServerHostKeyAlgorithm[] | undefined {
  const wanted = keyTypes.flatMap((type) =>
    type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type],
  );
  const supported = SUPPORTED_HOST_KEY_ALGORITHMS.filter((algorithm) => wanted.includes(algorithm));
  return supported.length > 0 ? supported : undefined;
}

function mapConnectError(
  resolved: ResolvedSshHost,
  err: Error & { level?: string; code?: string },
): RehomeError {
  const where = `${resolved.user}@${resolved.hostname}:${resolved.port}`;
  if (err.level === 'client-authentication') {
    return new RehomeError(`SSH authentication to ${where} failed: ${err.message}`, 'unreachable', [
      'Check that your key is in the host authorized_keys and loaded in ssh-agent or listed as IdentityFile',
    ]);
  }
  return new RehomeError(`Cannot connect to ${where}: ${err.message}`, 'unreachable', [], { cause: err });
}

function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number | undefined,
  onTimeout: () => Error,
): Promise<T> {
  if (!timeoutMs) return promise;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { firmwareCommand, mkdirs, removeTree, type ShellResult } from './fake-firmware.js';
import type { FakeHost, FakeProcess } from './fake-host.js';
import type { FakeHypervisor } from './fake-hypervisor.js';
import type { FakeSession } from './fake-session.js';
import type { ExecOptions, ExecResult } from './src-imports.js';

const ok = (stdout = ''): ExecResult => ({ stdout, stderr: '', code: 0 });
const CLIENT_CERT = readFileSync(new URL('../fixtures/tls/client-cert.pem', import.meta.url), 'utf8');
const fail = (stderr: string, code = 1): ExecResult => ({ stdout: '', stderr, code });

/** libvirt names a NIC's tap with the guest MAC's first byte set to 0xfe. */
const tapMac = (mac: string) => `fe${mac.slice(2)}`;

/**
 * A RemoteShell over one fake host: answers the argv the sync layer and the engine send (qemu-img, qemu-nbd, ss,
 * cat of pid files and /proc, kill, tail --pid (waits), rm, test, mkdir, ip -o link). Anything else exits 127.
 */
export class FakeShell {
  constructor(
    private readonly host: FakeHost,
    private readonly world: FakeHypervisor,
    private readonly session: FakeSession,
  ) {}

  get name(): string {
    return this.host.name;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.call(argv, options);
    return { ...result, stdout: result.stdout.toString() };
  }

  async execBuffer(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult<Buffer>> {
    const result = await this.call(argv, options);
    return { ...result, stdout: Buffer.from(result.stdout) };
  }

  private async call(argv: readonly string[], options: ExecOptions): Promise<ShellResult> {
    const call = await this.session.enter();
    if (!this.host.reachable) throw new Error(`ssh: connect to host ${this.host.name}: No route to host`);
    this.host.commands.push([...argv]);
    const failure = this.world.failures.take(this.host.name, argv[0] ?? '');
    const stdin = typeof options.stdin === 'string' ? Buffer.from(options.stdin) : options.stdin;
    const result = failure ? fail(failure.message) : await this.run(argv, stdin, options);
    await this.session.leave(call);
    return result;
  }

  private run(
    argv: readonly string[],
    stdin?: Buffer,
    options: ExecOptions = {},
  ): ShellResult | Promise<ShellResult> {
    const [command, ...args] = argv;
    switch (command) {
      case 'test':
        return this.host.files.has(args[1] ?? '') ? ok() : fail('', 1);
      case 'mkdir':
        return mkdirs(this.host, args);
      case 'qemu-img':
        return this.qemuImg(args);
      case 'perl':
        return this.listener(args);
      case 'ss':
        return ok(
          this.host
            .liveExports()
            .map((p) => `LISTEN 0      5      ${p.address}:${p.port}      0.0.0.0:*`)
            .join('\n'),
        );
      case 'cat':
        return this.cat(args);
      case 'kill':
        return this.kill(Number(args[args.length - 1]));
      case 'tail':
        return this.tailPid(args, options.timeoutMs);
      case 'rm':
        for (const path of args.filter((arg) => !arg.startsWith('-'))) {
          if (args.includes('-rf')) removeTree(this.host, path);
          else this.host.files.delete(path);
        }
        return ok();
      case 'ip':
        return ok(this.ipLink());
      default:
        return (
          firmwareCommand(this.host, argv, stdin) ?? fail(`fake shell: ${command}: command not found`, 127)
        );
    }
  }

  private qemuImg(args: string[]): ExecResult {
    if (args[0] === 'create') {
      const [path, size] = args.slice(-2) as [string, string];
      this.host.files.set(path, { kind: 'image', virtualSize: Number(size), data: 'empty' });
      return ok();
    }
    if (args[0] === 'info') {
      const path = args[args.length - 1] ?? '';
      const image = this.host.image(path);
      if (!image) return fail(`qemu-img: Could not open '${path}': No such file or directory`);
      return ok(JSON.stringify({ 'virtual-size': image.virtualSize, format: 'qcow2', filename: path }));
    }
    if (args[0] === 'map') {
      const path = args[args.length - 1] ?? '';
      const image = this.host.image(path);
      if (!image) return fail(`qemu-img: Could not open '${path}': No such file or directory`);
      const data = Math.min(image.allocatedBytes ?? image.virtualSize, image.virtualSize);
      const extents = [
        { start: 0, length: data, data: true, zero: false },
        { start: data, length: image.virtualSize - data, data: false, zero: true },
      ];
      return ok(JSON.stringify(extents.filter((e) => e.length > 0)));
    }
    return fail(`qemu-img: unknown command ${args[0]}`);
  }

  /** noDelayListenerArgv: `perl -e SCRIPT ADDRESS PORT qemu-nbd …`, the listener made, then qemu-nbd run on it. */
  private listener(args: readonly string[]): ExecResult {
    const [flag, , address = '', port = '', ...command] = args;
    if (flag !== '-e' || command[0] !== 'qemu-nbd')
      return fail('fake shell: perl: only the listener is known', 2);
    if (this.host.liveExports().some((p) => p.port === Number(port)))
      return fail(`cannot listen on ${address} port ${port}: Address already in use`, 98);
    return this.qemuNbd(command, address, Number(port));
  }

  private qemuNbd(argv: readonly string[], address: string, port: number): ExecResult {
    const option = (name: string) => argv[argv.indexOf(name) + 1];
    const imagePath = argv[argv.length - 1] ?? '';
    const exportName = option('-x') ?? '';
    const pidFile = argv.find((arg) => arg.startsWith('--pid-file='))?.slice('--pid-file='.length) ?? '';
    if (!this.host.image(imagePath))
      return fail(`qemu-nbd: Failed to blk_new_open '${imagePath}': No such file`);
    const process: FakeProcess = {
      pid: this.world.nextPid(),
      argv: [...argv],
      state: 'running',
      address,
      port,
      exportName,
      imagePath,
    };
    this.host.processes.set(process.pid, process);
    this.host.files.set(pidFile, { kind: 'text', text: `${process.pid}\n` });
    return ok();
  }

  private cat(paths: string[]): ExecResult {
    const proc = /^\/proc\/(\d+)\/stat$/.exec(paths[0] ?? '');
    if (proc) {
      const process = this.host.processes.get(Number(proc[1]));
      if (!process) return fail(`cat: ${paths[0]}: No such file or directory`);
      const name = (process.argv[0] ?? '').split('/').pop();
      const state = process.state === 'zombie' ? 'Z' : 'S';
      return ok(
        `${process.pid} (${name}) ${state} 1 ${process.pid} ${process.pid} 0 -1\n${process.argv.join('\0')}\0`,
      );
    }
    // Every fake host has its fleet certificates (not rehome's files, so not in `files`).
    if (paths[0]?.endsWith('/client-cert.pem')) return ok(CLIENT_CERT);
    const file = this.host.files.get(paths[0] ?? '');
    if (file?.kind !== 'text') return fail(`cat: ${paths[0]}: No such file or directory`);
    return ok(file.text);
  }

  /** `tail --pid=N … -f /dev/null`: returns once process N is gone (a zombie too is waited for), or times out. */
  private async tailPid(args: readonly string[], timeoutMs = 30_000): Promise<ShellResult> {
    const pid = Number(args.find((arg) => arg.startsWith('--pid='))?.slice('--pid='.length));
    const until = Date.now() + timeoutMs;
    while (this.host.processes.has(pid)) {
      if (Date.now() > until) return fail('', 124);
      await sleep(1);
    }
    return ok();
  }

  /** SIGTERM: qemu-nbd flushes and exits; its clients (mirror jobs) lose their target. */
  private kill(pid: number): ExecResult {
    if (!this.host.processes.has(pid)) return fail(`kill: (${pid}) - No such process`);
    this.host.processes.delete(pid);
    return ok();
  }

  private ipLink(): string {
    const lines: string[] = [];
    let index = 10;
    for (const domain of this.host.domains.values()) {
      if (domain.state === 'shutoff') continue;
      for (const mac of domain.links.keys()) {
        lines.push(
          `${index}: vnet${index - 10}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UNKNOWN mode DEFAULT group default qlen 1000\\    link/ether ${tapMac(mac)} brd ff:ff:ff:ff:ff:ff`,
        );
        index++;
      }
    }
    return lines.join('\n');
  }
}

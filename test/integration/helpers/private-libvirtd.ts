/**
 * A private libvirtd for integration tests: its own mount and network namespaces, scratch dirs bound over
 * /run, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and a copy of /etc/libvirt. Nothing touches the root
 * namespace's /run or network. The socket is reachable from here through the scratch path.
 *
 *   const lvd = await startPrivateLibvirtd();
 *   const stream = net.connect(lvd.socketPath);
 *   ...
 *   await lvd.stop();   // in test.after.always; also runs on process exit
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOLDER_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'libvirtd-holder.py');
/** QEMU capability cache kept between runs: a cold probe takes seconds, a warm start 0.3 s. */
const SHARED_CAPS_CACHE = path.join(tmpdir(), 'rehome-libvirt-qemu-caps');

export interface PrivateLibvirtd {
  scratchDir: string;
  socketPath: string;
  holderPid: number;
  stop(): Promise<void>;
}

export interface PrivateLibvirtdOptions {
  readyTimeoutMs?: number;
  /** Keep the scratch dir after stop (for debugging: logs are in <scratch>/log). */
  keepScratch?: boolean;
}

const SCRATCH_PREFIX = 'rehome-libvirtd-';

/** Removes scratch dirs left by runs that were killed outright (their holder is gone, so are its daemons). */
function sweepStaleScratch(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(SCRATCH_PREFIX)) continue;
    const dir = path.join(tmpdir(), entry);
    try {
      const pid = Number(readFileSync(path.join(dir, 'holder.pid'), 'utf8'));
      if (
        existsSync(`/proc/${pid}/cmdline`) &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('libvirtd-holder')
      ) {
        continue;
      }
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      // no pid file yet: another run is starting right now
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function prepareScratch(): string {
  sweepStaleScratch();
  const scratch = mkdtempSync(path.join(tmpdir(), SCRATCH_PREFIX));
  for (const dir of ['run', 'lib', 'cache', 'log']) mkdirSync(path.join(scratch, dir));
  cpSync('/etc/libvirt', path.join(scratch, 'etc'), { recursive: true });
  // No cgroups in this container, and no networks started for us.
  appendFileSync(path.join(scratch, 'etc/qemu.conf'), '\ncgroup_controllers = [ ]\n');
  const autostart = path.join(scratch, 'etc/qemu/networks/autostart');
  if (existsSync(autostart))
    for (const link of readdirSync(autostart)) unlinkSync(path.join(autostart, link));
  // Empty pool/network dirs libvirtd expects.
  for (const dir of ['qemu', 'network', 'dnsmasq', 'images']) mkdirSync(path.join(scratch, 'lib', dir));
  if (existsSync(SHARED_CAPS_CACHE))
    cpSync(SHARED_CAPS_CACHE, path.join(scratch, 'cache/qemu'), { recursive: true });
  writeFileSync(path.join(scratch, 'README'), 'scratch of a private libvirtd started by rehome tests\n');
  return scratch;
}

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startPrivateLibvirtd(options: PrivateLibvirtdOptions = {}): Promise<PrivateLibvirtd> {
  const scratch = prepareScratch();
  const socketPath = path.join(scratch, 'run/libvirt/libvirt-sock');
  const holder = spawn(
    'unshare',
    ['--mount', '--net', '--propagation', 'private', 'python3', HOLDER_SCRIPT, scratch],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  holder.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  holder.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const holderPid = holder.pid;
  if (holderPid === undefined) throw new Error('could not start the libvirtd holder');
  writeFileSync(path.join(scratch, 'holder.pid'), String(holderPid));

  let stopped = false;
  const onExit = () => {
    if (!stopped) holder.kill('SIGTERM');
  };
  process.once('exit', onExit);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    holder.kill('SIGTERM');
    await waitForExit(holder, 10_000);
    try {
      const cache = path.join(scratch, 'cache/qemu');
      if (existsSync(cache)) cpSync(cache, SHARED_CAPS_CACHE, { recursive: true });
    } catch {
      // a cache is a nicety
    }
    if (!options.keepScratch) rmSync(scratch, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (!(await canConnect(socketPath))) {
    if (holder.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`private libvirtd did not come up (holder exit ${holder.exitCode}): ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { scratchDir: scratch, socketPath, holderPid, stop };
}

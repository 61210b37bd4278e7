/** Helpers shared by the migration lab tests: the CLI as the operator, a background `rehome watch`, assertions. */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import {
  agentQuery,
  checkNothingLost,
  type LabGuest,
  labSh,
  ping,
  virsh,
  waitForAgent,
  whereRuns,
} from './lab.js';
import { operatorArgv } from './operator.js';
import { labPaths } from './paths.js';
import { sleep, waitFor } from './run.js';

export async function rehome(
  args: readonly string[],
  options: { env?: Record<string, string>; reject?: boolean; timeoutMs?: number } = {},
) {
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  return labSh(env.length ? ['env', ...env, 'rehome', ...args] : ['rehome', ...args], {
    reject: options.reject ?? true,
    timeoutMs: options.timeoutMs ?? 180_000,
  });
}

export async function rehomeJson<T>(
  args: readonly string[],
  options: { env?: Record<string, string>; reject?: boolean } = {},
): Promise<T> {
  const { stdout } = await rehome([...args, '--json'], options);
  return JSON.parse(stdout) as T;
}

export interface StatusJson {
  migrations: {
    phase: string;
    pauseLatenciesMs: number[];
    timeline: Record<string, number>;
    lastError: string | null;
    target: string;
    history?: { at: string; step: string; outcome: string; detail: Record<string, unknown> }[];
  }[];
}

/**
 * The VM's last migration's copy, from its audit log: `start-mirror` (blockcopy call) until `wait-ready` ended (every
 * job ready). `ms` is the two steps' own times; `from` and `to` are wall-clock (ms since the epoch).
 */
export async function mirrorSteps(vm: string): Promise<{ ms: number; from: number; to: number }> {
  const history = (await rehomeJson<StatusJson>(['status', vm])).migrations.at(-1)?.history ?? [];
  const step = (name: string) => {
    const entry = history.filter((e) => e.step === name && e.outcome === 'ok').at(-1);
    const { ms, startedAt } = (entry?.detail ?? {}) as { ms?: number; startedAt?: string };
    if (ms === undefined || startedAt === undefined)
      throw new Error(`no timed ${name} step in the audit log`);
    return { ms, from: Date.parse(startedAt) };
  };
  const start = step('start-mirror');
  const ready = step('wait-ready');
  return { ms: start.ms + ready.ms, from: start.from, to: ready.from + ready.ms };
}

export async function phaseOf(vm: string): Promise<string | undefined> {
  const status = await rehomeJson<StatusJson>(['status', vm]);
  return status.migrations.at(-1)?.phase;
}

/** When the VM's latest migration entered `phase` (epoch ms), from its history; undefined if it never did. */
export async function phaseEnteredAt(vm: string, phase: string): Promise<number | undefined> {
  const { migrations } = await rehomeJson<{
    migrations: { history?: { at: string; step: string; detail: { to?: string } }[] }[];
  }>(['status', vm]);
  const entry = migrations.at(-1)?.history?.find((h) => h.step === 'phase' && h.detail.to === phase);
  return entry ? Date.parse(entry.at) : undefined;
}

export async function waitForPhase(
  vm: string,
  phases: readonly string[],
  timeoutMs = 120_000,
): Promise<string> {
  return waitFor(
    `${vm} in ${phases.join('|')}`,
    async () => {
      const phase = await phaseOf(vm);
      return phase && phases.includes(phase) ? phase : undefined;
    },
    timeoutMs,
    300,
  );
}

/**
 * Cancels every migration still active, as a test that failed half-way leaves them (armed, mirroring, failed), so that
 * the next test finds no VM locked and no mirror running. Returns one line per migration, for the test log.
 */
export async function cancelActiveMigrations(): Promise<string[]> {
  const { migrations } = await rehomeJson<{ migrations: { vm: string; uuid: string; phase: string }[] }>([
    'status',
  ]);
  const lines: string[] = [];
  for (const migration of migrations) {
    const result = await rehome(['cancel', migration.uuid], { reject: false });
    const outcome =
      result.exitCode === 0 ? 'cancelled' : `cancel exited ${result.exitCode}: ${result.stderr.trim()}`;
    lines.push(`${migration.vm} was ${migration.phase}: ${outcome}`);
  }
  return lines;
}

/** A background CLI process in the operator namespace (e.g. `rehome watch`), its stderr in a log file. */
export interface Background {
  pid: number;
  log(): Promise<string>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then wait for its exit; returns the exit code. */
  stop(): Promise<number | null>;
  kill9(): void;
  exited: Promise<number | null>;
}

let backgroundCount = 0;

export async function startRehome(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Background> {
  const logFile = path.join(labPaths().root, `rehome-bg-${process.pid}-${++backgroundCount}.log`);
  const log = await open(logFile, 'w');
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const [command, ...rest] = operatorArgv(['env', ...envArgs, 'rehome', ...args]);
  const child = spawn(command as string, rest, { stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const readLog = () => readFile(logFile, 'utf8').catch(() => '');
  return {
    pid: child.pid as number,
    log: readLog,
    async waitForLog(pattern, timeoutMs = 60_000) {
      await waitFor(
        `${pattern} in the log of rehome ${args.join(' ')}`,
        async () => (pattern.test(await readLog()) ? true : undefined),
        timeoutMs,
        100,
      );
    },
    async stop() {
      child.kill('SIGTERM');
      const timeout = sleep(20_000).then(() => 'timeout' as const);
      const code = await Promise.race([exited, timeout]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        return exited;
      }
      return code;
    },
    kill9() {
      child.kill('SIGKILL');
    },
    exited,
  };
}

export async function domUuid(host: string, name: string): Promise<string | undefined> {
  const result = await virsh(host, ['domuuid', name], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

export async function domMacs(host: string, name: string): Promise<string[]> {
  const { stdout } = await virsh(host, ['domiflist', name]);
  return [...stdout.matchAll(/([0-9a-f]{2}(?::[0-9a-f]{2}){5})/g)].map((m) => m[1] as string);
}

/**
 * rehome's qemu-nbd processes (export names `rehome-…`) and the VM's images left on a host. The lab hosts share the
 * machine's PID namespace, so pgrep also lists any other qemu-nbd on the machine: those are not the lab's.
 */
export async function exportLeftovers(host: string, name: string): Promise<{ nbd: string; images: string }> {
  const listed = (await labSh(['ssh', host, 'pgrep -a qemu-nbd || true'])).stdout;
  const nbd = listed
    .split('\n')
    .filter((line) => / -x rehome-/.test(line))
    .join('\n')
    .trim();
  const images = (
    await labSh(['ssh', host, `ls /var/lib/libvirt/images/${name}-*.qcow2 2>/dev/null || true`])
  ).stdout.trim();
  return { nbd, images };
}

/** The checks every migration test makes: one host, nothing lost, same MAC, same IP answering. */
export async function assertGuestOn(
  t: ExecutionContext,
  guest: LabGuest,
  host: string,
  minBoot: number,
): Promise<void> {
  const status = await waitForAgent(guest.ip, { minBoot, timeoutMs: 120_000 });
  t.true(status.boot >= minBoot);
  t.deepEqual(await whereRuns(guest.name), [host], 'runs on exactly one host: the expected one');
  const report = await checkNothingLost(guest.name);
  t.true(report.ok, report.problems.join('; '));
  t.deepEqual(await domMacs(host, guest.name), [guest.mac], 'same MAC');
  t.true(await ping(guest.ip), 'same IP answers ping from the operator namespace');
  const again = await agentQuery(guest.ip);
  t.true(again.counter >= status.counter);
}

/** Helpers for the notify lab tests: receivers and `rehome serve` in the operator namespace, their records, HTTP. */
import { spawn } from 'node:child_process';
import { appendFile, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { labSh } from './lab.js';
import { operatorArgv, operatorFiles } from './operator.js';
import { labPaths, labSourceDir, repoDir } from './paths.js';
import { sleep, waitFor } from './run.js';

export interface LabProcess {
  log(): Promise<string>;
  stop(): Promise<void>;
}

let count = 0;

/** A long-running process in the operator namespace, its output in a log file under the lab dir. */
export async function startInOperatorNs(name: string, argv: readonly string[]): Promise<LabProcess> {
  const logFile = path.join(labPaths().root, `${name}-${process.pid}-${++count}.log`);
  const log = await open(logFile, 'w');
  const [command, ...rest] = operatorArgv(argv);
  const child = spawn(command as string, rest, { stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    async stop() {
      child.kill('SIGTERM');
      if ((await Promise.race([exited.then(() => 'exited'), sleep(10_000)])) !== 'exited')
        child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function waitForOutput(proc: LabProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `${pattern}`,
    async () => (pattern.test(await proc.log()) ? true : undefined),
    timeoutMs,
    100,
  );
}

/** The SMTP or webhook receiver of helpers-notify-receivers.ts, listening on 127.0.0.1 in rh-op. */
export async function startReceiver(
  mode: 'smtp' | 'webhook',
  port: number,
  file: string,
  secret?: string,
): Promise<LabProcess> {
  const script = path.join(labSourceDir, 'helpers-notify-receivers.ts');
  const loader = path.join(repoDir, 'node_modules/tsx/dist/loader.mjs');
  const args = ['node', '--import', loader, '--no-warnings', script, mode, String(port), file];
  const proc = await startInOperatorNs(mode, secret ? [...args, secret] : args);
  await waitForOutput(proc, new RegExp(`${mode} listening on ${port}`));
  return proc;
}

export async function readJsonLines<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Waits until the file holds a record the predicate accepts; returns it. */
export async function waitForRecord<T>(
  file: string,
  what: string,
  accept: (record: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  return waitFor(what, async () => (await readJsonLines<T>(file)).find(accept), timeoutMs, 250);
}

/** Adds YAML sections to the operator's rehome config (labUp writes a fresh one). */
export async function appendOperatorConfig(yaml: string): Promise<void> {
  await appendFile(operatorFiles().rehomeConfig, `${yaml.trimEnd()}\n`);
}

/** An HTTP request from the operator namespace (curl); returns the status code and body. */
export async function labHttp(
  method: 'GET' | 'POST',
  url: string,
  form?: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const data = form ? ['--data', new URLSearchParams(form).toString()] : [];
  const { stdout } = await labSh(
    ['curl', '-sS', '--max-time', '30', '-X', method, ...data, '-w', '\n%{http_code}', url],
    { timeoutMs: 40_000 },
  );
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

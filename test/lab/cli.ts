/** The lab CLI: `npm run lab -- <verb>`. Progress goes to stderr, results to stdout. */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  checkNothingLost,
  defineGuest,
  isClean,
  labDown,
  labState,
  labUp,
  leftovers,
  waitForAgent,
  whereRuns,
} from './lab.js';
import { dhcpHosts } from './network.js';
import { operatorArgv } from './operator.js';
import { MAX_HOSTS } from './paths.js';

const USAGE = `usage: npm run lab -- <verb>
  up [--hosts N]                                   bring the lab up (default 3 hosts); cleans leftovers first
  down                                             stop everything the lab started
  guest NAME --host lab-a [--disk-size 256M] [--mac 52:54:00:xx:xx:xx]
                                                   define and start a guest, wait for its agent
  sh -- CMD...                                     run CMD as the operator inside the lab network
  check NAME                                       the "nothing lost" check from the console logs
  status                                           hosts, guests, where they run, leftovers`;

class UsageError extends Error {}

const started = Date.now();
function progress(line: string): void {
  process.stderr.write(`[lab +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(2)} s`;
}

async function up(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { hosts: { type: 'string', default: '3' } }, strict: true });
  const hosts = Number(values.hosts);
  if (!/^\d+$/.test(values.hosts ?? '') || hosts < 1 || hosts > MAX_HOSTS) {
    throw new UsageError(`--hosts must be a number from 1 to ${MAX_HOSTS}, got ${values.hosts}`);
  }
  const since = Date.now();
  const state = await labUp({ hosts, progress });
  progress(`up in ${seconds(since)}`);
  console.log(`lab up: ${state.hosts.join(', ')}`);
}

async function down(args: string[]): Promise<void> {
  if (args.length) throw new UsageError(`down takes no arguments, got ${args.join(' ')}`);
  const since = Date.now();
  await labDown({ progress });
  const left = await leftovers();
  progress(`down in ${seconds(since)}`);
  if (!isClean(left)) {
    console.log(JSON.stringify(left, null, 2));
    throw new Error('leftovers remain after down (listed above)');
  }
  console.log('lab down: nothing left');
}

async function guest(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { host: { type: 'string' }, 'disk-size': { type: 'string' }, mac: { type: 'string' } },
    strict: true,
  });
  const [name] = positionals;
  if (!name || positionals.length !== 1) throw new UsageError('guest takes exactly one NAME');
  if (!values.host) throw new UsageError('guest needs --host (e.g. --host lab-a)');
  const since = Date.now();
  const created = await defineGuest(name, {
    host: values.host,
    diskSize: values['disk-size'],
    mac: values.mac,
    progress,
  });
  progress(
    `${created.name} started on ${created.host} (${created.mac}, ${created.ip}); waiting for its agent`,
  );
  const status = await waitForAgent(created.ip);
  progress(`agent answered ${seconds(since)} after define (boot=${status.boot} counter=${status.counter})`);
  console.log(JSON.stringify(created));
}

async function sh(args: string[]): Promise<void> {
  const argv = args[0] === '--' ? args.slice(1) : args;
  if (argv.length === 0) throw new UsageError('sh needs a command: npm run lab -- sh -- CMD...');
  if (!(await labState())) throw new Error('the lab is not up: run `npm run lab -- up`');
  const [command = 'ip', ...rest] = operatorArgv(argv);
  const child = spawn(command, rest, { stdio: 'inherit' });
  process.exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function check(args: string[]): Promise<void> {
  const [name] = args;
  if (!name || args.length !== 1) throw new UsageError('check takes exactly one NAME');
  const report = await checkNothingLost(name);
  console.log(JSON.stringify(report, null, 2));
  if (!report.ok) process.exitCode = 3;
}

async function status(args: string[]): Promise<void> {
  if (args.length) throw new UsageError('status takes no arguments');
  const state = await labState();
  const guests = state ? await dhcpHosts() : [];
  const placed = await Promise.all(guests.map(async (g) => ({ ...g, runsOn: await whereRuns(g.name) })));
  console.log(
    JSON.stringify(
      {
        up: Boolean(state),
        hosts: state?.hosts ?? [],
        guests: placed,
        leftovers: state ? undefined : await leftovers(),
      },
      null,
      2,
    ),
  );
}

const verbs: Record<string, (args: string[]) => Promise<void>> = { up, down, guest, sh, check, status };

async function main(argv: string[]): Promise<void> {
  const [verb, ...args] = argv;
  if (!verb || verb === '--help' || verb === 'help') {
    console.log(USAGE);
    if (!verb) process.exitCode = 2;
    return;
  }
  const handler = verbs[verb];
  if (!handler) throw new UsageError(`unknown verb ${JSON.stringify(verb)}`);
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, mounts)');
  await handler(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`lab: ${message}\n`);
  if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});

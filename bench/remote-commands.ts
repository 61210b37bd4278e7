/**
 * bench/remote-commands: what one short remote command costs over an open SSH connection, run the usual way (a new
 * session channel: sshd forks, the login shell starts) against run in a warm shell (cued-shell.ts: a `sh` already
 * waiting on the host for its command line), on an idle lab host and with both of the machine's cores kept busy (as a
 * TCG guest and a cutover keep them), alternating, in one run.
 *
 *   flock /tmp/rehome-lab.lock npx tsx bench/remote-commands.ts [--runs 15]
 *
 * The command is `kill -0 1`. Before each warm sample the pool is allowed to refill (WARM_REFILL_DELAY_MS), and its
 * shell a second to start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { SshConnection } from '../src/host/ssh-connection.js';
import { operatorArgv, operatorFiles } from '../test/lab/operator.js';
import { run } from '../test/lab/run.js';
import { log, withLab } from './lib/lab-session.js';
import { formatMs, ratio, summarize } from './lib/stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, inner: { type: 'boolean' } } });
const runs = Number(values.runs ?? 15);

async function timed(body: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await body();
  return performance.now() - started;
}

/** The pool has a shell again, and its `sh` has had the time to start on the host (a cutover's were opened long before). */
async function warmAgain(connection: SshConnection): Promise<void> {
  while (connection.warmShellsIdle < 1) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

/** Busy loops on every core, ended by PID. */
function busyCores(): ChildProcess[] {
  return [1, 2].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function inner(): Promise<void> {
  const options = { configFile: operatorFiles().sshConfig, agentSocket: null };
  const connection = await SshConnection.connect('lab-a', { ...options, warmShells: 1 });
  const command = ['kill', '-0', '1'];
  try {
    await warmAgain(connection);
    for (const busy of [false, true]) {
      const hogs = busy ? busyCores() : [];
      const fresh: number[] = [];
      const warm: number[] = [];
      try {
        for (let i = 0; i < runs; i++) {
          await warmAgain(connection);
          const before = connection.channelsOpened;
          warm.push(await timed(() => connection.exec(command)));
          if (connection.channelsOpened !== before) throw new Error('the warm sample opened a channel');
          // The pool refills 2 s after a take: until then exec opens a channel of its own.
          fresh.push(await timed(() => connection.exec(command)));
        }
      } finally {
        for (const hog of hogs) hog.kill();
      }
      const f = summarize(fresh);
      const w = summarize(warm);
      const label = busy ? 'both cores busy' : 'idle';
      console.log(`${label}: new session channel ${formatMs(f, 'ms')}`);
      console.log(`${label}: warm shell          ${formatMs(w, 'ms')}`);
      console.log(`${label}: warm ÷ new (medians) ${ratio(w.median, f.median)}`);
    }
  } finally {
    connection.close();
  }
}

if (values.inner) await inner();
else {
  console.log(`bench/remote-commands, ${runs} runs of each, ${new Date().toISOString()}`);
  await withLab(1, async () => {
    log('timing from the operator namespace');
    const argv = ['node', '--import=tsx', 'bench/remote-commands.ts', '--inner', '--runs', String(runs)];
    console.log((await run(operatorArgv(argv))).stdout);
  });
}

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { isPidAlive } from '../../src/store/index.js';

test('this process is alive; an exited and reaped child is not', async (t) => {
  t.true(isPidAlive(process.pid));
  const child = spawn('true');
  await once(child, 'exit');
  t.false(isPidAlive(child.pid as number));
  t.false(isPidAlive(0));
  t.false(isPidAlive(-1));
});

test('a zombie (exited, not yet reaped) counts as dead', async (t) => {
  // The parent forks a child that exits at once, reports its pid and sleeps without ever waiting for it. (A shell
  // that backgrounds a job before `exec sleep` may reap it itself when it is slow to reach the exec.)
  const forkAndNeverReap =
    'import os, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)';
  const parent = spawn('python3', ['-c', forkAndNeverReap], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (parent.exitCode === null) process.kill(parent.pid as number, 'SIGKILL');
  });
  const [chunk] = (await once(parent.stdout, 'data')) as [Buffer];
  const zombiePid = Number(chunk.toString().trim());
  let state = '';
  for (let i = 0; i < 50 && state !== 'Z'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stat = readFileSync(`/proc/${zombiePid}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  }
  t.is(state, 'Z', 'the child should be a zombie by now');
  t.false(isPidAlive(zombiePid));
  t.true(isPidAlive(parent.pid as number));
});

/** `--wait` and `--timeout` of migrate and drain: following armed migrations until they move, or until the timeout. */
import test from 'ava';
import { formatWaitResult } from '../../src/app/format/wait.js';
import { parseWaitTimeout, thenWait } from '../../src/app/wait.js';
import { ExitCode, exitCodeForWait } from '../../src/cli/exit-codes.js';
import { RehomeError } from '../../src/errors.js';
import type { Runtime } from '../../src/migration/index.js';
import { waitUntilMoved } from '../../src/migration/services/wait-moved.js';
import type { Phase } from '../../src/store/phases.js';
import type { MigrationRecord } from '../../src/store/types.js';

/** A store whose migrations walk through the given phases, one step per read. */
function scripted(paths: Record<string, Phase[]>) {
  const reads = new Map<string, number>();
  return {
    async getMigration(id: string) {
      const path = paths[id];
      if (!path) return undefined;
      const n = reads.get(id) ?? 0;
      reads.set(id, n + 1);
      const phase = path[Math.min(n, path.length - 1)] as Phase;
      return {
        id,
        vmName: `vm-${id}`,
        phase,
        lastError: phase === 'rolled-back' ? 'verify failed' : null,
      } as MigrationRecord;
    },
  };
}

test('waits until every migration settled, and says each phase change once', async (t) => {
  const changes: string[] = [];
  const result = await waitUntilMoved(
    scripted({ a: ['armed', 'armed', 'cutover', 'done'], b: ['armed', 'done'] }),
    ['a', 'b'],
    { pollMs: 1, onChange: (m, before) => changes.push(`${m.vm} ${before}→${m.phase}`) },
  );
  t.like(result, { settled: true, allMoved: true });
  t.deepEqual(changes, ['vm-b armed→done', 'vm-a armed→cutover', 'vm-a cutover→done']);
  t.is(exitCodeForWait(result), ExitCode.ok);
  t.regex(formatWaitResult(result), /All 2 moved, after \d+ s\./);
});

test('a rollback settles the wait, as a failure (exit 9)', async (t) => {
  const result = await waitUntilMoved(scripted({ a: ['armed', 'cutover', 'rolled-back'] }), ['a'], {
    pollMs: 1,
  });
  t.like(result, { settled: true, allMoved: false });
  t.is(exitCodeForWait(result), ExitCode.migrationFailed);
  t.regex(formatWaitResult(result), /vm-a +rolled-back +verify failed/);
});

test('the timeout ends the wait, not the migration: still armed, exit 13', async (t) => {
  const started = Date.now();
  const result = await waitUntilMoved(scripted({ a: ['armed'] }), ['a'], { pollMs: 20, timeoutMs: 120 });
  t.true(Date.now() - started < 1_000);
  t.like(result, { settled: false, allMoved: false });
  t.is(result.migrations[0]?.phase, 'armed');
  t.is(exitCodeForWait(result), ExitCode.waitTimedOut);
  t.is(ExitCode.waitTimedOut, 13);
  t.regex(formatWaitResult(result), /Stopped waiting after \d+ s: nothing was undone/);
});

test('an abort (SIGINT) ends the wait at once', async (t) => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const result = await waitUntilMoved(scripted({ a: ['armed'] }), ['a'], {
    pollMs: 60_000,
    signal: controller.signal,
  });
  t.false(result.settled);
});

test('--timeout takes 45s, 30m, 2h, 1d; anything else is a usage error', (t) => {
  t.is(parseWaitTimeout('45s'), 45_000);
  t.is(parseWaitTimeout('30m'), 1_800_000);
  t.is(parseWaitTimeout('1d'), 86_400_000);
  t.is(parseWaitTimeout(undefined), undefined);
  for (const bad of ['30', '2 h', 'soon', '-5m'])
    t.is(t.throws(() => parseWaitTimeout(bad), { instanceOf: RehomeError })?.kind, 'invalid-input', bad);
});

test('thenWait: shows the armed result first, enters the stop scope only for the wait, and returns both', async (t) => {
  const order: string[] = [];
  const rt = { store: scripted({ a: ['armed', 'done'] }) } as unknown as Runtime;
  const result = await thenWait(rt, { vm: 'web' }, ['a'], {
    quiet: true,
    onArmed: (armed) => order.push(`armed ${armed.vm}`),
    untilStopped: async (work) => {
      order.push('scope');
      return work(new AbortController().signal);
    },
  });
  t.deepEqual(order, ['armed web', 'scope']);
  t.like(result, { vm: 'web', wait: { settled: true, allMoved: true } });
  t.deepEqual(await thenWait(rt, { vm: 'web' }, ['a'], undefined), { vm: 'web' }, 'without --wait: as armed');
});

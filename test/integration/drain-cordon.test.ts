import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { cordonHost, uncordonHost } from '../../src/drain/cordon.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { fixedClock } from '../helpers/fixed-clock.js';
import { runRehome } from '../helpers/rehome-cli.js';
import { tempDbPath, tempStoreDir } from './helpers/temp-store.js';

const root = new URL('../../', import.meta.url).pathname;

test('cordon and uncordon are idempotent on a real SQLite file, and survive a reopen', async (t) => {
  const path = tempDbPath(t);
  const clock = fixedClock('2026-11-25T10:00:00.000Z');
  const store = openSqliteStore(path, { now: clock.now });
  const first = await cordonHost(store, 'kvm7');
  t.like(first, { before: 'active', after: 'cordoned', changed: true });
  const record = await store.getHostState('kvm7');
  clock.ms = Date.parse('2026-11-25T11:00:00.000Z');
  const second = await cordonHost(store, 'kvm7');
  t.like(second, { before: 'cordoned', after: 'cordoned', changed: false });
  t.deepEqual(await store.getHostState('kvm7'), record, 'nothing written the second time');
  await store.close();

  const again = openSqliteStore(path, { now: clock.now });
  t.teardown(() => again.close());
  t.deepEqual(await again.listHostStates(), [record].filter(Boolean));
  await again.setHostState('kvm7', 'draining', 'drain');
  const draining = await again.getHostState('kvm7');
  t.is(draining?.since, record?.since, 'since kept from the cordon');
  t.like(await cordonHost(again, 'kvm7'), { before: 'draining', after: 'draining', changed: false });
  t.is((await again.getHostState('kvm7'))?.state, 'draining', 'cordon does not end a drain');
  t.like(await uncordonHost(again, 'kvm7'), { before: 'draining', after: 'active', changed: true });
  t.like(await uncordonHost(again, 'kvm7'), { before: 'active', after: 'active', changed: false });
  t.deepEqual(await again.listHostStates(), []);
});

test('two processes cordoning at once: exactly one change', async (t) => {
  const path = tempDbPath(t);
  openSqliteStore(path).close();
  const script = `
    import { openSqliteStore } from '${root}src/store/sqlite/open.ts';
    const store = openSqliteStore(process.argv[1]);
    const change = await store.setHostState('kvm9', 'cordoned');
    console.log(JSON.stringify(change.changed));
    await store.close();`;
  const runs = await Promise.all(
    [1, 2, 3].map(() =>
      execa('node', ['--import', 'tsx', '--input-type=module', '-e', script, path], { cwd: root }),
    ),
  );
  t.deepEqual(runs.map((r) => r.stdout.trim()).sort(), ['false', 'false', 'true']);
});

test('`rehome hosts cordon|uncordon` through the CLI: --json results, exit codes, unknown host', async (t) => {
  const configDir = tempStoreDir(t);
  const dataDir = tempStoreDir(t);
  writeFileSync(join(configDir, 'config.yaml'), 'hosts:\n  - name: kvm7\n    address: kvm7.example.net\n');
  const rehome = (...args: string[]) => runRehome({ configDir, dataDir }, args);
  const cordon = await rehome('hosts', 'cordon', 'kvm7', '--json');
  t.is(cordon.exitCode, 0, cordon.stderr);
  t.like(JSON.parse(cordon.stdout), { host: 'kvm7', before: 'active', after: 'cordoned', changed: true });
  const twice = await rehome('hosts', 'cordon', 'kvm7');
  t.is(twice.exitCode, 0);
  t.is(twice.stdout.trim(), 'kvm7 is already cordoned (no change)');
  const uncordon = await rehome('hosts', 'uncordon', 'kvm7', '--json');
  t.like(JSON.parse(uncordon.stdout), { before: 'cordoned', after: 'active', changed: true });
  await rehome('hosts', 'cordon', 'kvm7', '--reason', 'DIMM errors, OPS-12');
  const list = await rehome('hosts', 'list', '--json');
  t.like(JSON.parse(list.stdout).hosts[0], {
    name: 'kvm7',
    state: 'cordoned',
    reason: 'DIMM errors, OPS-12',
  });
  t.regex(
    (await rehome('hosts', 'list')).stdout,
    /kvm7 +kvm7\.example\.net +cordoned +DIMM errors, OPS-12 +0 +0 /,
  );
  const unknown = await rehome('hosts', 'cordon', 'nope', '--json');
  t.is(unknown.exitCode, 8);
  t.regex(JSON.parse(unknown.stdout).error.message, /No host named nope/);
});

/**
 * Through the CLI, on a real SQLite file and loopback only: `rehome status --host`, `rehome watch --serve`, and the
 * progress of `rehome migrate` when stderr is not a terminal.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { DrainStatus } from '../../src/drain/status.js';
import type { Phase } from '../../src/store/phases.js';
import { defaultStorePath, openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/types.js';
import { runRehome } from '../helpers/rehome-cli.js';

const freshDir = () => mkdtempSync(join(tmpdir(), 'rehome-cli-'));
const TO_DONE: Phase[] = ['preparing', 'mirroring', 'armed', 'cutover', 'switching', 'verifying', 'done'];

function cli(configDir: string, dataDir: string) {
  writeFileSync(join(configDir, 'config.yaml'), 'hosts: []\n');
  return { run: (...args: string[]) => runRehome({ configDir, dataDir }, args) };
}

async function armedVm(store: Store, drainId: string, name: string, to: Phase[]): Promise<void> {
  const record = await store.createMigration({
    vmName: name,
    vmUuid: `uuid-${name}`,
    sourceHost: 'kvm7',
    targetHost: 'kvm8',
  });
  let phase: Phase = 'planned';
  for (const next of to) {
    await store.updatePhase(record.id, phase, next);
    phase = next;
  }
  await store.updateDrainVm(drainId, record.vmUuid, { outcome: 'armed', migrationId: record.id });
}

test('`status --host`: each VM with its phase and target, moved and remaining, empty only when all moved', async (t) => {
  const configDir = freshDir();
  const dataDir = freshDir();
  const store = openSqliteStore(defaultStorePath(dataDir));
  const drain = await store.createDrain({
    host: 'kvm7',
    deadline: '2026-12-15T10:00:00.000Z',
    concurrency: 2,
    vms: [
      { vmUuid: 'uuid-web', vmName: 'web', targetHost: 'kvm8', outcome: 'pending' },
      { vmUuid: 'uuid-db', vmName: 'db', targetHost: 'kvm8', outcome: 'pending' },
      { vmUuid: 'uuid-gpu', vmName: 'gpu', targetHost: null, outcome: 'blocked', detail: 'passthrough' },
    ],
  });
  await store.setHostState('kvm7', 'draining', 'drain');
  await armedVm(store, drain.id, 'web', TO_DONE);
  await armedVm(store, drain.id, 'db', TO_DONE.slice(0, 3));
  const single = await store.createDrain({
    host: 'kvm9',
    concurrency: 1,
    vms: [{ vmUuid: 'uuid-mail', vmName: 'mail', targetHost: 'kvm8', outcome: 'pending' }],
  });
  const mail = await store.createMigration({
    vmName: 'mail',
    vmUuid: 'uuid-mail',
    sourceHost: 'kvm9',
    targetHost: 'kvm8',
  });
  await store.close();
  const rehome = cli(configDir, dataDir);

  const json = await rehome.run('status', '--host', 'kvm7', '--json');
  t.is(json.exitCode, 0, json.stderr);
  const status = JSON.parse(json.stdout) as DrainStatus;
  t.like(status, { host: 'kvm7', hostState: 'draining', moved: 1, remaining: 2, empty: false });
  t.deepEqual(
    status.vms.map((vm) => [vm.vm, vm.target, vm.outcome, vm.phase]),
    [
      ['web', 'kvm8', 'armed', 'done'],
      ['db', 'kvm8', 'armed', 'armed'],
      ['gpu', null, 'blocked', null],
    ],
  );
  const human = await rehome.run('status', '--host', 'kvm7');
  t.regex(human.stdout, /^kvm7 is draining; drain started .*, deadline 2026-12-15T10:00:00.000Z\./);
  t.regex(human.stdout, /\ndb +kvm8 +armed +armed\n/);
  t.regex(human.stdout, /1 moved, 2 remaining\.\nkvm7 is not empty yet\./);

  const reopened = openSqliteStore(defaultStorePath(dataDir));
  let phase: Phase = 'planned';
  for (const next of TO_DONE) {
    await reopened.updatePhase(mail.id, phase, next);
    phase = next;
  }
  await reopened.updateDrainVm(single.id, 'uuid-mail', { outcome: 'armed', migrationId: mail.id });
  await reopened.close();
  const empty = JSON.parse((await rehome.run('status', '--host', 'kvm9', '--json')).stdout) as DrainStatus;
  t.like(empty, { moved: 1, remaining: 0, empty: true });
  t.regex((await rehome.run('status', '--host', 'kvm9')).stdout, /kvm9 is empty of the drained VMs/);
  const unknown = await rehome.run('status', '--host', 'kvm1');
  t.is(unknown.exitCode, 8, 'neither configured nor on record');
  t.regex(unknown.stderr, /No host named kvm1/);
  t.is((await rehome.run('status', 'web', '--host', 'kvm7')).exitCode, 2);
});

test('`watch --serve --json` serves the owners’ links, /metrics and /healthz inside watch, and stops with it', async (t) => {
  const rehome = cli(freshDir(), freshDir());
  const watch = rehome.run('watch', '--serve', '127.0.0.1:0', '--reconcile-interval', '3600', '--json');
  let stderr = '';
  const origin = await new Promise<string>((resolve, reject) => {
    watch.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /Serving links on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (found?.[1]) resolve(found[1]);
    });
    void watch.then(() => reject(new Error(`watch exited: ${stderr}`)));
    setTimeout(() => reject(new Error(`no "Serving links" line in 60 s: ${stderr}`)), 60_000);
  });
  const nothing = await fetch(`${origin}/`);
  t.is(nothing.status, 404);
  t.regex(await nothing.text(), /There is nothing here/);
  const forged = await fetch(`${origin}/r/not-a-signed-token`);
  t.true(forged.status >= 400 && forged.status < 500, `a forged link is refused (${forged.status})`);
  const metrics = await fetch(`${origin}/metrics`);
  t.is(metrics.status, 200);
  t.regex(await metrics.text(), /^# TYPE rehome_vms_armed gauge$/m);
  let health = await fetch(`${origin}/healthz`);
  for (let i = 0; i < 100 && health.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    health = await fetch(`${origin}/healthz`);
  }
  t.is(health.status, 200, 'no host is needed, and the store was read');
  t.like(await health.json(), { ok: true, hosts: [] });
  watch.kill('SIGTERM');
  const ended = await watch;
  t.is(ended.exitCode, 0, ended.stderr);
  const lines = ended.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  t.like(lines[0], { event: 'started', hosts: [], armed: 0 });
  t.regex(lines[0].at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.like(lines.at(-1), { event: 'stopped', cutovers: 0 });
  await t.throwsAsync(fetch(`${origin}/`), undefined, 'the server stopped with watch');
  t.is((await rehome.run('watch', '--serve', 'nonsense')).exitCode, 2);
});

test('`migrate` progress: timestamped listr lines when stderr is no terminal, nothing under --json', async (t) => {
  const rehome = cli(freshDir(), freshDir());
  const lines = await rehome.run('migrate', 'ghost');
  t.is(lines.exitCode, 8);
  t.regex(lines.stderr, /\[\d{2}:\d{2}:\d{2}\] ghost: starting/);
  t.regex(
    lines.stderr,
    /✖ \[\d{2}:\d{2}:\d{2}\] ghost: starting \[FAILED: No VM named ghost on any configured host\]/,
  );
  const quiet = await rehome.run('migrate', 'ghost', '--json');
  t.is(quiet.exitCode, 8);
  t.notRegex(quiet.stderr, /ghost: starting/);
  t.regex(JSON.parse(quiet.stdout).error.message, /No VM named ghost/);
  const bad = await rehome.run('migrate', 'ghost', '--bandwidth', 'fast', '--json');
  t.is(bad.exitCode, 2);
  t.regex(JSON.parse(bad.stdout).error.message, /Bad bandwidth "fast"/);
});

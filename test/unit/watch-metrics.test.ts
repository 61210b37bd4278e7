/** `rehome watch`'s events from store diffs, its /metrics and /healthz, and its start line. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { formatWatchEventLine, formatWatchStart } from '../../src/app/format/watch.js';
import { healthOf, observabilityRoutes, WatchMetrics } from '../../src/app/watch-metrics.js';
import { type WatchEvent, WatchTelemetry } from '../../src/migration/services/watch-events.js';
import type { MigrationRecord } from '../../src/store/types.js';

function record(
  id: string,
  phase: MigrationRecord['phase'],
  extra: Partial<MigrationRecord> = {},
): MigrationRecord {
  return {
    id,
    vmName: `vm-${id}`,
    vmUuid: `uuid-${id}`,
    sourceHost: 'hv1',
    targetHost: 'hv2',
    phase,
    deadline: '2026-12-08T00:00:00.000Z',
    job: { progress: { cur: 300, end: 1000, at: '2026-12-01T00:00:00.000Z' } },
    owner: null,
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
    lastError: null,
    ...extra,
  };
}

function telemetry() {
  const events: WatchEvent[] = [];
  let now = 1_000_000;
  const hooks = new WatchTelemetry(
    (event) => events.push(event),
    () => now,
  );
  return { events, hooks, advance: (ms: number) => (now += ms) };
}

test('events come from the store’s changes, once each: started, armed, mirror-lost, armed again', (t) => {
  const { events, hooks } = telemetry();
  hooks.refreshed([record('a', 'armed'), record('b', 'mirroring')], ['hv1']);
  t.deepEqual(events, [{ event: 'started', hosts: ['hv1'], armed: 1 }]);
  hooks.refreshed([record('a', 'armed'), record('b', 'mirroring')], ['hv1']);
  t.is(events.length, 1, 'nothing changed, nothing said');
  hooks.refreshed([record('a', 'mirror-lost'), record('b', 'armed')], ['hv1']);
  t.deepEqual(events.slice(1), [
    { event: 'mirror-lost', vm: 'vm-a', host: 'hv1' },
    { event: 'armed', vm: 'vm-b', host: 'hv1', target: 'hv2', deadline: '2026-12-08T00:00:00.000Z' },
  ]);
  hooks.reconciled(
    [
      {
        vm: 'vm-a',
        id: 'a',
        phaseBefore: 'mirror-lost',
        phaseAfter: 'armed',
        action: 'remirror',
        reason: 'x',
      },
    ],
    0,
  );
  t.like(events.at(-1), { event: 'armed', vm: 'vm-a' });
  hooks.refreshed([record('a', 'armed'), record('b', 'armed')], ['hv1']);
  t.is(events.length, 4, 'the re-arm reconcile reported is not reported again');
});

test('connections: connected, lost, reconnected; outcomes carry their duration', (t) => {
  const { events, hooks, advance } = telemetry();
  hooks.refreshed([record('a', 'armed')], ['hv1']);
  hooks.connectionUp('hv1');
  t.deepEqual(hooks.snapshot().hosts, [{ host: 'hv1', connected: true }]);
  hooks.connectionLost('hv1', new Error('keepalive timeout'));
  t.deepEqual(hooks.snapshot().hosts, [{ host: 'hv1', connected: false }]);
  hooks.connectionUp('hv1');
  const since = 1_000_000;
  advance(4_200);
  hooks.outcome(record('a', 'cutover'), 'rolled-back', since, 'verify: the guest stopped');
  t.deepEqual(events.slice(1), [
    { event: 'connected', host: 'hv1' },
    { event: 'connection-lost', host: 'hv1', error: 'keepalive timeout' },
    { event: 'reconnected', host: 'hv1' },
    { event: 'rolled-back', vm: 'vm-a', durationMs: 4_200, error: 'verify: the guest stopped' },
  ]);
});

function snapshotOf(hooks: WatchTelemetry) {
  return () => hooks.snapshot();
}

test('/metrics: armed per host, mirrors by state, bytes left, histograms, failures by step, connections', async (t) => {
  const { hooks } = telemetry();
  hooks.refreshed([record('a', 'armed'), record('b', 'armed'), record('c', 'mirror-lost')], ['hv1']);
  hooks.connectionUp('hv1');
  const metrics = new WatchMetrics(snapshotOf(hooks));
  metrics.observe({ event: 'paused', vm: 'vm-a', latencyMs: 21, verdict: 'cutover' });
  metrics.observe({ event: 'done', vm: 'vm-a', durationMs: 4_600 });
  metrics.observe({ event: 'step-failed', vm: 'vm-b', step: 'converge', error: 'x' });
  const text = await metrics.registry.metrics();
  t.regex(text, /^rehome_vms_armed\{host="hv1"\} 2$/m);
  t.regex(text, /^rehome_mirrors\{state="armed"\} 2$/m);
  t.regex(text, /^rehome_mirrors\{state="mirror-lost"\} 1$/m);
  t.regex(text, /^rehome_mirrors\{state="mirroring"\} 0$/m);
  t.regex(text, /^rehome_sync_bytes_left\{host="hv1"\} 2100$/m);
  t.regex(text, /^rehome_libvirt_connection_up\{host="hv1"\} 1$/m);
  t.regex(text, /^rehome_pause_latency_seconds_bucket\{le="0.025"\} 1$/m);
  t.regex(text, /^rehome_pause_latency_seconds_bucket\{le="0.01"\} 0$/m);
  t.regex(text, /^rehome_cutover_duration_seconds_bucket\{le="5",outcome="done"\} 1$/m);
  t.regex(text, /^rehome_step_failures_total\{step="converge"\} 1$/m);
  t.regex(text, /^rehome_watch_healthy 1$/m);
});

test('/healthz is 503 with the reason until the store is read and while a needed connection is down', async (t) => {
  const { hooks } = telemetry();
  t.deepEqual(healthOf(hooks.snapshot()).problems, ['the store has not been read yet']);
  hooks.refreshed([record('a', 'armed')], ['hv1']);
  const metrics = new WatchMetrics(snapshotOf(hooks));
  const routes = observabilityRoutes(metrics, snapshotOf(hooks));
  const server = createServer((request, response) => {
    void routes(request, response).then((answered) => {
      if (!answered) response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const down = await fetch(`${origin}/healthz`);
  t.is(down.status, 503);
  t.deepEqual(((await down.json()) as { problems: string[] }).problems, ['no libvirt connection to hv1']);
  hooks.connectionUp('hv1');
  const up = await fetch(`${origin}/healthz`);
  t.is(up.status, 200);
  t.like(await up.json(), { ok: true, storeOk: true });
  const scraped = await fetch(`${origin}/metrics`);
  t.is(scraped.status, 200);
  t.regex(scraped.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  t.regex(await scraped.text(), /rehome_vms_armed\{host="hv1"\} 1/);
  t.is((await fetch(`${origin}/r/anything`)).status, 404, 'other paths are left to the links');
  hooks.refreshFailed();
  t.is((await fetch(`${origin}/healthz`)).status, 503);
});

test('the start line and the --json lines', (t) => {
  t.is(
    formatWatchStart({ event: 'started', hosts: ['hv1', 'hv2'], armed: 3 }, 5),
    'rehome watch: 3 VMs armed; watching 2 hosts (hv1, hv2) of 5 configured. Waiting for reboots.',
  );
  t.is(
    formatWatchStart({ event: 'started', hosts: [], armed: 0 }, 1),
    'rehome watch: 0 VMs armed; watching no host yet of 1 configured. Waiting for reboots.',
  );
  const line = formatWatchEventLine({
    at: '2026-12-01T10:00:00.000Z',
    event: 'reboot-caught',
    vm: 'web',
    host: 'hv1',
  });
  t.is(line, '{"at":"2026-12-01T10:00:00.000Z","event":"reboot-caught","vm":"web","host":"hv1"}');
  t.regex(JSON.parse(line).at, /Z$/);
});

/**
 * `rehome watch --serve`'s /metrics (Prometheus text format, prom-client) and /healthz. Counters and histograms are
 * fed by the watch's events as they happen; gauges are read from the watch's snapshot at each scrape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WatchEvent, WatchSnapshot } from '../migration/index.js';

export interface Health {
  ok: boolean;
  /** Every host whose libvirt connection the watch needs, and whether it is up. */
  hosts: WatchSnapshot['hosts'];
  storeOk: boolean;
  refreshedAt: string | null;
  /** Why it is not ok, when it is not. */
  problems: string[];
}

/** Healthy: the store was read, and every host connection the watch needs is up. */
export function healthOf(snapshot: WatchSnapshot): Health {
  const problems = [
    ...(snapshot.refreshedAt === null ? ['the store has not been read yet'] : []),
    ...(snapshot.storeOk ? [] : ['the last read of the store failed']),
    ...snapshot.hosts
      .filter((host) => !host.connected)
      .map((host) => `no libvirt connection to ${host.host}`),
  ];
  return {
    ok: problems.length === 0,
    hosts: snapshot.hosts,
    storeOk: snapshot.storeOk,
    refreshedAt: snapshot.refreshedAt,
    problems,
  };
}

export class WatchMetrics {
  readonly registry = new Registry();
  private readonly events: Counter<'event'>;
  private readonly failures: Counter<'step'>;
  private readonly cutoverSeconds: Histogram<'outcome'>;
  private readonly pauseSeconds: Histogram;

  constructor(snapshot: () => WatchSnapshot) {
    const registers = [this.registry];
    this.events = new Counter({
      name: 'rehome_watch_events_total',
      help: 'Events seen by rehome watch, by kind',
      labelNames: ['event'],
      registers,
    });
    this.failures = new Counter({
      name: 'rehome_step_failures_total',
      help: 'Migration steps that failed, by step',
      labelNames: ['step'],
      registers,
    });
    this.cutoverSeconds = new Histogram({
      name: 'rehome_cutover_duration_seconds',
      help: 'From the guest reboot event (or the reconcile pass) to the cutover outcome',
      labelNames: ['outcome'],
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    });
    this.pauseSeconds = new Histogram({
      name: 'rehome_pause_latency_seconds',
      help: 'From the guest reboot event to the guest paused',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers,
    });
    new Gauge({
      name: 'rehome_vms_armed',
      help: 'VMs armed (mirror ready, waiting for their reboot), by source host',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const m of snapshot().migrations) if (m.phase === 'armed') this.inc({ host: m.host });
      },
    });
    new Gauge({
      name: 'rehome_mirrors',
      help: 'Mirrors by state: mirroring (first copy), armed (in sync), mirror-lost',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const state of ['mirroring', 'armed', 'mirror-lost']) this.set({ state }, 0);
        for (const m of snapshot().migrations) this.inc({ state: m.phase });
      },
    });
    new Gauge({
      name: 'rehome_sync_bytes_left',
      help: 'Bytes the mirrors still have to copy, from their last reading, by source host',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const m of snapshot().migrations) this.inc({ host: m.host }, m.bytesLeft);
      },
    });
    new Gauge({
      name: 'rehome_libvirt_connection_up',
      help: '1 when the libvirt event connection to a host watch needs is up',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const host of snapshot().hosts) this.set({ host: host.host }, host.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'rehome_watch_healthy',
      help: '1 when /healthz answers 200',
      registers,
      collect() {
        this.set(healthOf(snapshot()).ok ? 1 : 0);
      },
    });
  }

  observe(event: WatchEvent): void {
    this.events.inc({ event: event.event });
    if (event.event === 'paused') this.pauseSeconds.observe(event.latencyMs / 1000);
    if (
      (event.event === 'done' || event.event === 'rolled-back' || event.event === 'failed') &&
      event.durationMs !== undefined
    )
      this.cutoverSeconds.observe({ outcome: event.event }, event.durationMs / 1000);
    if (event.event === 'step-failed') this.failures.inc({ step: event.step });
  }
}

/** The routes `watch --serve` adds to the links server: GET /metrics and GET /healthz. */
export function observabilityRoutes(metrics: WatchMetrics, snapshot: () => WatchSnapshot) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    if (path === '/metrics') {
      const body = await metrics.registry.metrics();
      response.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
      return true;
    }
    if (path === '/healthz') {
      const health = healthOf(snapshot());
      response.writeHead(health.ok ? 200 : 503, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : `${JSON.stringify(health)}\n`);
      return true;
    }
    return false;
  };
}

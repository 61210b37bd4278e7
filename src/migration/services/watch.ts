import { hostname } from 'node:os';
import type { LibvirtClient } from '../../libvirt/client.js';
import { ProtocolError } from '../../libvirt/errors.js';
import { DomainEventId, LifecycleEvent } from '../../libvirt/protocol/constants.js';
import type { LibvirtEvent } from '../../libvirt/protocol/events.js';
import { LockedError } from '../../store/errors.js';
import { judgeHolder } from '../../store/lock-staleness.js';
import { isPidAlive } from '../../store/process-alive.js';
import type { MigrationRecord } from '../../store/types.js';
import type { Runtime } from '../runtime.js';
import type { ProgressSink } from '../types.js';
import { runCutover } from './cutover.js';
import { HOST_LEASE_TTL_MS, HostLeases } from './host-leases.js';
import { contextFor } from './locate.js';
import { holdingLock, LOCK_TTL_MS } from './lock.js';
import { lostMirrorOf } from './mirror-events.js';
import { noticesFor } from './notices.js';
import { pauseNow, RebootDebouncer } from './reboot-trigger.js';
import { reconcile, reconcileOne } from './reconcile.js';
import { TargetConnections } from './target-connections.js';
import { type WatchEvent, WatchTelemetry } from './watch-events.js';

export interface WatchOptions {
  /** How often the armed list is re-read and lost connections reopened. */
  refreshMs?: number;
  /** How often a full reconcile pass runs (deadlines, lost mirrors, half-done cutovers). */
  reconcileMs?: number;
  /** How long this replica's claim on a host lasts without renewal (see host-leases.ts). */
  hostLeaseTtlMs?: number;
  /** Each thing that happens, for `--json` lines and metrics (see watch-events.ts). */
  onEvent?: (event: WatchEvent) => void;
  /** Run after each reconcile pass, in the background, one at a time (the app re-arms drains' rolled-back VMs). */
  afterReconcile?: () => Promise<void>;
}

export interface WatchSummary {
  cutovers: number;
  bootedInPlace: number;
  reconnects: number;
  /** Connections closed because a libvirtd sent what could not be decoded (or a listener failed on it). */
  protocolErrors: number;
}

interface Subscription {
  client: LibvirtClient;
  unsubscribe: () => void;
}

/**
 * Long-running: holds an event subscription on the source host of every armed VM. On a reboot event it suspends the
 * guest at once (unless another live rehome process holds the VM), then takes the lock and runs the cutover.
 */
export class Watcher {
  private readonly armed = new Map<string, MigrationRecord>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly busy = new Set<string>();
  private readonly debouncer = new RebootDebouncer();
  private readonly summary: WatchSummary = {
    cutovers: 0,
    bootedInPlace: 0,
    reconnects: 0,
    protocolErrors: 0,
  };
  private readonly running = new Set<Promise<void>>();
  private reconcileSoon = false;
  /** VMs whose lost mirror is being re-established after a block-job event. */
  private readonly remirroring = new Set<string>();
  private afterReconcileRunning: Promise<void> | undefined;
  /** Events and the snapshot behind /metrics and /healthz. */
  readonly telemetry = new WatchTelemetry((event) => this.options.onEvent?.(event));
  /** The hosts this replica watches; several replicas on one store share the fleet (created by run()). */
  private leases: HostLeases | undefined;
  /** The targets of the armed VMs whose source this replica holds, connected ahead of their cutovers. */
  private readonly targets: TargetConnections;

  constructor(
    private readonly rt: Runtime,
    private readonly progress: ProgressSink,
    private readonly options: WatchOptions = {},
  ) {
    this.targets = new TargetConnections(rt.hosts, (message) => this.say('connect', message));
  }

  async run(signal: AbortSignal): Promise<WatchSummary> {
    const refreshMs = this.options.refreshMs ?? 2000;
    const reconcileMs = this.options.reconcileMs ?? 30_000;
    let lastReconcile = 0;
    this.leases = new HostLeases(
      this.rt.store,
      this.rt.lockOwner('watch'),
      { localHost: hostname(), isPidAlive, now: () => new Date() },
      this.options.hostLeaseTtlMs ?? HOST_LEASE_TTL_MS,
    );
    await this.tickLeases();
    const leaseLoop = this.holdLeases(signal);
    while (!signal.aborted) {
      await this.refresh().catch((err) => this.say('watch', `refresh failed: ${(err as Error).message}`));
      if (this.reconcileSoon || Date.now() - lastReconcile >= reconcileMs) {
        this.reconcileSoon = false;
        lastReconcile = Date.now();
        await this.reconcilePass();
        await this.refresh().catch((err) => this.say('watch', `refresh failed: ${(err as Error).message}`));
      }
      await sleepUnless(signal, refreshMs);
    }
    await Promise.allSettled([...this.running, leaseLoop]);
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
    await this.leases.releaseAll();
    return this.summary;
  }

  /** The hosts this replica holds now, for the start line, status and metrics. */
  heldHosts(): string[] {
    return this.leases?.hosts() ?? [];
  }

  /** Renews and claims host leases every third of their ttl, apart from the refresh loop (a long reconcile pass). */
  private async holdLeases(signal: AbortSignal): Promise<void> {
    const every = (this.leases?.ttlMs ?? HOST_LEASE_TTL_MS) / 3;
    while (!signal.aborted) {
      await sleepUnless(signal, every);
      if (!signal.aborted) await this.tickLeases();
    }
  }

  private async tickLeases(): Promise<void> {
    const leases = this.leases;
    if (!leases) return;
    try {
      const { gained, lost } = await leases.tick(this.rt.config.hosts.map((host) => host.name));
      for (const host of lost) {
        this.subscriptions.get(host)?.unsubscribe();
        this.subscriptions.delete(host);
      }
      if (gained.length > 0 || lost.length > 0) {
        this.reconcileSoon = true;
        this.say(
          'lease',
          `watch pid ${leases.owner.pid} on ${leases.owner.host}: holding ${leases.hosts().join(', ') || 'no host'}${lost.length > 0 ? ` (lost ${lost.join(', ')})` : ''}`,
        );
      }
    } catch (err) {
      this.say('lease', `renewing host leases failed: ${(err as Error).message}`);
    }
  }

  private say(step: string, message: string, vm = '-'): void {
    this.progress({ vm, step, status: 'info', message });
  }

  /** A block job of an armed VM failed or was cancelled: re-mirror it now (reconcileOne observes before acting). */
  private onMirrorEvent(event: LibvirtEvent): void {
    const lost = lostMirrorOf(event, this.armed);
    if (!lost || this.busy.has(lost.record.vmUuid) || this.remirroring.has(lost.record.vmUuid)) return;
    const { record } = lost;
    this.remirroring.add(record.vmUuid);
    this.say('mirror', `the block job of ${lost.disk} ${lost.status}: re-mirroring now`, record.vmName);
    const task = reconcileOne(this.rt, record, this.progress)
      .then((entry) => this.say('mirror', `${entry.action}: ${entry.reason}`, record.vmName))
      .catch((err) => this.say('mirror', `re-mirror failed: ${(err as Error).message}`, record.vmName))
      .finally(() => {
        this.remirroring.delete(record.vmUuid);
        this.running.delete(task);
        this.reconcileSoon = true;
      });
    this.running.add(task);
  }

  /** Starts the after-reconcile work (drains' re-arming) unless the last one still runs: it may copy for long. */
  private startAfterReconcile(): void {
    const after = this.options.afterReconcile;
    if (!after || this.afterReconcileRunning) return;
    const task = after()
      .catch((err) => this.say('rearm', (err as Error).message))
      .finally(() => {
        this.afterReconcileRunning = undefined;
        this.running.delete(task);
      });
    this.afterReconcileRunning = task;
    this.running.add(task);
  }

  private async reconcilePass(): Promise<void> {
    const since = Date.now();
    const entries = await reconcile(this.rt, this.progress).catch((err: Error) => {
      this.say('reconcile', err.message);
      return [];
    });
    this.telemetry.reconciled(entries, since);
    for (const entry of entries) {
      if (entry.action !== 'none' && entry.action !== 'busy')
        this.say('reconcile', `${entry.action}: ${entry.reason}`, entry.vm);
    }
    this.startAfterReconcile();
  }

  private async refresh(): Promise<void> {
    const records = await this.rt.store
      .listMigrations({ phase: ['armed', 'mirror-lost', 'mirroring'] })
      .catch((err) => {
        this.telemetry.refreshFailed();
        throw err;
      });
    this.armed.clear();
    for (const record of records) if (record.phase === 'armed') this.armed.set(record.vmUuid, record);
    // A deadline that passed is enforced by the reconcile pass (graceful reboot, then pause as it stands): run it now.
    const now = Date.now();
    if ([...this.armed.values()].some((r) => r.deadline && Date.parse(r.deadline) <= now))
      this.reconcileSoon = true;
    await noticesFor(this.rt)?.remind([...this.armed.values()]);
    const hosts = new Set(records.map((record) => record.sourceHost));
    this.telemetry.refreshed(
      records,
      [...hosts].filter((host) => this.leases?.holds(host) ?? true),
    );
    for (const [host, subscription] of this.subscriptions) {
      if (this.leases?.holds(host)) continue;
      subscription.unsubscribe();
      this.subscriptions.delete(host);
    }
    for (const host of hosts) {
      if (this.subscriptions.has(host) || !this.leases?.holds(host)) continue;
      try {
        await this.subscribe(host);
      } catch (err) {
        this.say('subscribe', `${host}: ${(err as Error).message}`);
      }
    }
    this.targets.keepOpen(
      [...this.armed.values()]
        .filter((record) => this.leases?.holds(record.sourceHost))
        .map((record) => record.targetHost),
    );
  }

  private async subscribe(host: string): Promise<void> {
    const client = await this.rt.hosts.libvirt(host);
    const offEvent = client.onEvent((event) => this.onEvent(client, event));
    const ids = [
      await client.registerDomainEvent(DomainEventId.reboot, null),
      await client.registerDomainEvent(DomainEventId.lifecycle, null),
      // A mirror that fails or is cancelled is re-established at once (mirror-events.ts).
      await client.registerDomainEvent(DomainEventId.blockJob2, null),
    ];
    const offClose = client.onClose((error) => {
      if (this.subscriptions.get(host)?.client !== client) return;
      this.subscriptions.delete(host);
      this.summary.reconnects++;
      if (error instanceof ProtocolError) this.summary.protocolErrors++;
      this.reconcileSoon = true;
      this.telemetry.connectionLost(host, error);
      this.say('subscribe', `lost ${host}${error ? `: ${error.message}` : ''}; reconnecting`);
    });
    this.subscriptions.set(host, {
      client,
      unsubscribe: () => {
        offEvent();
        offClose();
        for (const id of ids) {
          void client
            .deregisterDomainEvent(id)
            .catch((err: Error) => this.say('subscribe', `${host}: stop listening failed: ${err.message}`));
        }
      },
    });
    this.telemetry.connectionUp(host);
    this.say('subscribe', `listening to ${host}`);
  }

  private onEvent(client: LibvirtClient, event: LibvirtEvent): void {
    if (event.kind === 'lifecycle' && event.event === LifecycleEvent.started) {
      // A VM that was off while armed may run again: its mirror comes back in the next reconcile pass.
      this.reconcileSoon = true;
      return;
    }
    if (event.kind === 'block-job') {
      this.onMirrorEvent(event);
      return;
    }
    if (event.kind !== 'reboot') return;
    const eventAt = Date.now();
    const record = this.armed.get(event.domain.uuid);
    if (!record || this.busy.has(record.vmUuid)) return;
    if (!this.debouncer.accept(record.vmUuid, eventAt)) return;
    this.busy.add(record.vmUuid);
    this.telemetry.rebootCaught(record);
    const task = this.onReboot(client, record, eventAt)
      .catch((err) => this.say('cutover', `failed: ${(err as Error).message}`, record.vmName))
      .finally(() => {
        this.busy.delete(record.vmUuid);
        this.running.delete(task);
        this.reconcileSoon = true;
      });
    this.running.add(task);
  }

  private async onReboot(client: LibvirtClient, record: MigrationRecord, eventAt: number): Promise<void> {
    // The event may have waited in a socket while this process was stopped: act only while the host is still ours.
    if (!(await this.leases?.confirm(record.sourceHost))) {
      this.say(
        'reboot',
        `${record.sourceHost} is no longer held by this replica; leaving it alone`,
        record.vmName,
      );
      return;
    }
    const holder = await this.rt.store.getLockHolder(record.vmUuid);
    if (holder && !judgeHolder(holder, { now: new Date(), localHost: hostname(), isPidAlive }).stale) {
      this.say('reboot', `held by pid ${holder.pid} (${holder.purpose}); leaving it alone`, record.vmName);
      return;
    }
    // The armed list may be a refresh old (a cancel, a cutover by `rehome reboot`): the store has the word.
    if ((await this.rt.store.getMigration(record.id))?.phase !== 'armed') return;
    const domain = { name: record.vmName, uuid: record.vmUuid, id: -1 };
    const verdict = await pauseNow(client, domain, eventAt, this.rt.settings.pauseBoundMs);
    this.telemetry.paused(record, verdict);
    let lock: Awaited<ReturnType<Runtime['store']['acquireLock']>>;
    try {
      lock = await this.rt.store.acquireLock(record.vmUuid, this.rt.lockOwner('watch: cutover'), LOCK_TTL_MS);
    } catch (err) {
      if (!(err instanceof LockedError)) throw err;
      // Someone took it between the check and the pause. If they are not cutting over, do not leave it paused.
      const now = await this.rt.store.getMigration(record.id);
      if (verdict.kind === 'cutover' && now?.phase === 'armed') await client.resumeDomain(domain);
      this.say('reboot', `lost the race for the lock: ${err.message}`, record.vmName);
      return;
    }
    await holdingLock(lock, async (held) => {
      const current = (await this.rt.store.getMigration(record.id)) ?? record;
      if (current.phase !== 'armed') {
        if (verdict.kind === 'cutover') await client.resumeDomain(domain);
        this.say('reboot', `no longer armed (${current.phase}): resumed, it boots in place`, record.vmName);
        return;
      }
      const ctx = contextFor(this.rt, current, this.progress, held);
      await ctx.patchJob({
        pauseLatenciesMs: [...(ctx.job.pauseLatenciesMs ?? []), verdict.latencyMs],
        trigger: 'guest reboot',
      });
      await ctx.audit('pause', 'info', {
        latencyMs: verdict.latencyMs,
        boundMs: this.rt.settings.pauseBoundMs,
        verdict: verdict.kind,
      });
      if (verdict.kind === 'boot-in-place') {
        this.summary.bootedInPlace++;
        this.say(
          'reboot',
          `paused ${verdict.latencyMs} ms after the event (bound ${this.rt.settings.pauseBoundMs} ms): resumed, it boots in place and stays armed`,
          record.vmName,
        );
        return;
      }
      this.say(
        'reboot',
        `paused ${verdict.latencyMs} ms after the reboot event: cutting over`,
        record.vmName,
      );
      const outcome = await runCutover(ctx, { eventAt });
      this.summary.cutovers++;
      this.telemetry.outcome(record, outcome, eventAt, ctx.record.lastError);
      this.say(
        'cutover',
        `${outcome}${ctx.record.lastError ? `: ${ctx.record.lastError}` : ''}`,
        record.vmName,
      );
    });
  }
}

function sleepUnless(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

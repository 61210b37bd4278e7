import { hostname } from 'node:os';
import type { LibvirtClient } from '../../libvirt/client.js';
import { DomainEventId, LifecycleEvent } from '../../libvirt/protocol/constants.js';
import type { LibvirtEvent } from '../../libvirt/protocol/events.js';
import { LockedError } from '../../store/errors.js';
import { judgeHolder } from '../../store/lock-staleness.js';
import { isPidAlive } from '../../store/process-alive.js';
import type { MigrationRecord } from '../../store/types.js';
import type { Runtime } from '../runtime.js';
import type { ProgressSink } from '../types.js';
import { runCutover } from './cutover.js';
import { contextFor } from './locate.js';
import { holdingLock, LOCK_TTL_MS } from './lock.js';
import { noticesFor } from './notices.js';
import { pauseNow, RebootDebouncer } from './reboot-trigger.js';
import { reconcile } from './reconcile.js';

export interface WatchOptions {
  /** How often the armed list is re-read and lost connections reopened. */
  refreshMs?: number;
  /** How often a full reconcile pass runs (deadlines, lost mirrors, half-done cutovers). */
  reconcileMs?: number;
}

export interface WatchSummary {
  cutovers: number;
  bootedInPlace: number;
  reconnects: number;
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
  private readonly summary: WatchSummary = { cutovers: 0, bootedInPlace: 0, reconnects: 0 };
  private readonly running = new Set<Promise<void>>();
  private reconcileSoon = false;

  constructor(
    private readonly rt: Runtime,
    private readonly progress: ProgressSink,
    private readonly options: WatchOptions = {},
  ) {}

  async run(signal: AbortSignal): Promise<WatchSummary> {
    const refreshMs = this.options.refreshMs ?? 2000;
    const reconcileMs = this.options.reconcileMs ?? 30_000;
    let lastReconcile = 0;
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
    await Promise.allSettled([...this.running]);
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
    return this.summary;
  }

  private say(step: string, message: string, vm = '-'): void {
    this.progress({ vm, step, status: 'info', message });
  }

  private async reconcilePass(): Promise<void> {
    const entries = await reconcile(this.rt, this.progress).catch((err: Error) => {
      this.say('reconcile', err.message);
      return [];
    });
    for (const entry of entries) {
      if (entry.action !== 'none' && entry.action !== 'busy')
        this.say('reconcile', `${entry.action}: ${entry.reason}`, entry.vm);
    }
  }

  private async refresh(): Promise<void> {
    const records = await this.rt.store.listMigrations({ phase: ['armed', 'mirror-lost', 'mirroring'] });
    this.armed.clear();
    for (const record of records) if (record.phase === 'armed') this.armed.set(record.vmUuid, record);
    // A deadline that passed is enforced by the reconcile pass (graceful reboot, then pause as it stands): run it now.
    const now = Date.now();
    if ([...this.armed.values()].some((r) => r.deadline && Date.parse(r.deadline) <= now))
      this.reconcileSoon = true;
    await noticesFor(this.rt)?.remind([...this.armed.values()]);
    const hosts = new Set(records.map((record) => record.sourceHost));
    for (const host of hosts) {
      if (this.subscriptions.has(host)) continue;
      try {
        await this.subscribe(host);
      } catch (err) {
        this.say('subscribe', `${host}: ${(err as Error).message}`);
      }
    }
  }

  private async subscribe(host: string): Promise<void> {
    const client = await this.rt.hosts.libvirt(host);
    const offEvent = client.onEvent((event) => this.onEvent(client, event));
    const ids = [
      await client.registerDomainEvent(DomainEventId.reboot, null),
      await client.registerDomainEvent(DomainEventId.lifecycle, null),
    ];
    const offClose = client.onClose((error) => {
      if (this.subscriptions.get(host)?.client !== client) return;
      this.subscriptions.delete(host);
      this.summary.reconnects++;
      this.reconcileSoon = true;
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
    this.say('subscribe', `listening to ${host}`);
  }

  private onEvent(client: LibvirtClient, event: LibvirtEvent): void {
    if (event.kind === 'lifecycle' && event.event === LifecycleEvent.started) {
      // A VM that was off while armed may run again: its mirror comes back in the next reconcile pass.
      this.reconcileSoon = true;
      return;
    }
    if (event.kind !== 'reboot') return;
    const eventAt = Date.now();
    const record = this.armed.get(event.domain.uuid);
    if (!record || this.busy.has(record.vmUuid)) return;
    if (!this.debouncer.accept(record.vmUuid, eventAt)) return;
    this.busy.add(record.vmUuid);
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
    const holder = await this.rt.store.getLockHolder(record.vmUuid);
    if (holder && !judgeHolder(holder, { now: new Date(), localHost: hostname(), isPidAlive }).stale) {
      this.say('reboot', `held by pid ${holder.pid} (${holder.purpose}); leaving it alone`, record.vmName);
      return;
    }
    // The armed list may be a refresh old (a cancel, a cutover by `rehome reboot`): the store has the word.
    if ((await this.rt.store.getMigration(record.id))?.phase !== 'armed') return;
    const domain = { name: record.vmName, uuid: record.vmUuid, id: -1 };
    const verdict = await pauseNow(client, domain, eventAt, this.rt.settings.pauseBoundMs);
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
    await holdingLock(lock, async () => {
      const current = (await this.rt.store.getMigration(record.id)) ?? record;
      if (current.phase !== 'armed') {
        if (verdict.kind === 'cutover') await client.resumeDomain(domain);
        this.say('reboot', `no longer armed (${current.phase}): resumed, it boots in place`, record.vmName);
        return;
      }
      const ctx = contextFor(this.rt, current, this.progress);
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

import path from 'node:path';
import type { RehomeConfig } from '../../config/schema.js';
import {
  type Channel,
  channelsFromConfig,
  closeChannels,
  DEFAULT_DELIVERY_BACKOFF,
  type DeliveryReport,
  defaultDeadline,
  deliveriesFor,
  deliverNotice,
  dueNotices,
  type LinkAction,
  linkUrl,
  loadLinkSecret,
  type Notice,
  type NoticeKind,
  NoticeRenderer,
  readOwnerMetadata,
  reminderOffsets,
  resolveOwner,
  retryDueDeliveries,
  signLinkToken,
} from '../../notify/index.js';
import type { MigrationRecord, Store } from '../../store/types.js';
import type { MigrationJob, NoticeExtra, NoticesPort } from '../types.js';

/** Why a VM moves, as owners read it. */
export const DEFAULT_REASON = 'planned maintenance of the hardware it runs on';

interface NoticesDeps {
  config: RehomeConfig;
  store: Store;
  /** For the link secret file and the operator's template overrides. */
  configDir?: string;
  now?: () => Date;
}

/**
 * The owners' notices of every migration handled by one rehome process: who the owner is (the domain's metadata
 * captured at arm time, then the config's `owners`, then the operator), the signed links, the channels, and the
 * audited deliveries. Nothing here throws into the engine: failures are audited and retried by reconcile.
 */
export class OwnerNotices implements NoticesPort {
  private readonly channels: Map<string, Channel>;
  private readonly renderer: NoticeRenderer;
  private readonly pending = new Set<Promise<void>>();
  private readonly inFlight = new Set<string>();
  private readonly now: () => Date;
  private secret?: Promise<string | undefined>;

  constructor(private readonly deps: NoticesDeps) {
    this.channels = channelsFromConfig(deps.config.notify);
    this.now = deps.now ?? (() => new Date());
    this.renderer = new NoticeRenderer({
      showHostNames: deps.config.notify?.showHostNames,
      ...(deps.configDir ? { overrideDir: path.join(deps.configDir, 'templates') } : {}),
    });
  }

  /** False when no channel is configured: then nothing is sent, stored or audited. */
  get enabled(): boolean {
    return this.channels.size > 0;
  }

  send(record: MigrationRecord, kind: NoticeKind, extra: NoticeExtra = {}): void {
    if (!this.enabled) return;
    const id = noticeId(record, kind, extra);
    if (this.inFlight.has(id)) return;
    this.inFlight.add(id);
    const task = this.deliver(record, kind, id, extra)
      .catch((error) => this.auditQuietly(record, 'notice.error', { kind, error: (error as Error).message }))
      .finally(() => {
        this.inFlight.delete(id);
        this.pending.delete(task);
      });
    this.pending.add(task);
  }

  /** The reminders due now for these migrations (armed, with a deadline); each goes once. */
  async remind(records: readonly MigrationRecord[]): Promise<number> {
    if (!this.enabled) return 0;
    const offsets = reminderOffsets(this.deps.config.notify?.reminders);
    let queued = 0;
    for (const record of records) {
      if (record.phase !== 'armed' || !record.deadline) continue;
      const sent = new Set(
        (await this.deps.store.listDeliveries(record.id))
          .filter((delivery) => delivery.kind === 'reminder')
          .map((delivery) => String(delivery.notice?.id ?? '').slice(record.id.length + 1)),
      );
      const scheduledAt = (record.job as Partial<MigrationJob>).scheduledAt ?? record.createdAt;
      for (const due of dueNotices({ deadline: record.deadline, scheduledAt }, this.now(), sent, offsets)) {
        this.send(record, 'reminder', { reminderKey: due.key });
        queued++;
      }
    }
    return queued;
  }

  /** Reconcile's pass over failed deliveries whose backoff has passed. */
  async retry(): Promise<DeliveryReport | undefined> {
    if (!this.enabled) return undefined;
    return retryDueDeliveries(this.deps.store, this.channels, {
      renderer: this.renderer,
      backoff: this.backoff(),
      now: this.now,
    });
  }

  /** Waits for every delivery started so far (a one-shot command calls this before it exits). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.flush();
    closeChannels(this.channels);
  }

  private async deliver(record: MigrationRecord, kind: NoticeKind, id: string, extra: NoticeExtra) {
    const { config, store } = this.deps;
    const owner = resolveOwner(
      { vmName: record.vmName, metadata: ownerMetadataOf(record) },
      { owners: config.owners, operator: config.notify?.operator },
    );
    if (!owner) {
      await this.auditQuietly(record, 'notice.skipped', { kind, reason: 'no owner and no notify.operator' });
      return;
    }
    const deadline = this.deadlineOf(record);
    const links = kind === 'scheduled' || kind === 'reminder' ? await this.links(record, deadline) : {};
    const notice: Notice = {
      id,
      kind,
      vm: { name: record.vmName, uuid: record.vmUuid },
      owner: withoutUndefined({ address: owner.address, name: owner.name, timeZone: owner.timeZone }),
      deadline: deadline.toISOString(),
      ...links,
      sourceHost: record.sourceHost,
      targetHost: record.targetHost,
      ipAndMacKept: true,
      reason: DEFAULT_REASON,
      ...(extra.error ? { error: extra.error } : {}),
      ...(extra.rescheduled ? { rescheduled: true } : {}),
      operator: config.notify?.operator
        ? withoutUndefined({ address: config.notify.operator.address, name: config.notify.operator.name })
        : { address: 'your system administrator' },
      sentAt: this.now().toISOString(),
    };
    const deliveries = deliveriesFor(owner, this.channels);
    await this.auditQuietly(record, 'notice', {
      noticeId: id,
      kind,
      owner: owner.address,
      ownerSource: owner.source,
      channels: deliveries.map((delivery) => delivery.channel.name),
    });
    const report = await deliverNotice(store, record.id, notice, deliveries, {
      renderer: this.renderer,
      backoff: this.backoff(),
      now: this.now,
    });
    if (report.errors.length > 0)
      await this.auditQuietly(record, 'notice.error', { kind, errors: report.errors });
  }

  /** The record's deadline; a record made before every migration had one gets the default it would have had. */
  private deadlineOf(record: MigrationRecord): Date {
    if (record.deadline) return new Date(record.deadline);
    return defaultDeadline(new Date(record.createdAt), this.deps.config.notify?.maxDeadlineDays);
  }

  /** Signed single-use links, valid until the deadline; none without `links.baseUrl`. */
  private async links(
    record: MigrationRecord,
    deadline: Date,
  ): Promise<{ rebootUrl?: string; rescheduleUrl?: string }> {
    const baseUrl = this.deps.config.links?.baseUrl;
    if (!baseUrl) return {};
    const secret = await this.linkSecret();
    if (!secret) return {};
    const url = (action: LinkAction) =>
      linkUrl(
        baseUrl,
        signLinkToken(secret, { migrationId: record.id, vmUuid: record.vmUuid, action, expiresAt: deadline }),
      );
    return { rebootUrl: url('reboot'), rescheduleUrl: url('reschedule') };
  }

  private linkSecret(): Promise<string | undefined> {
    const { config, configDir } = this.deps;
    this.secret ??= config.links?.secret
      ? Promise.resolve(config.links.secret)
      : configDir
        ? loadLinkSecret(configDir).then((loaded) => loaded.secret)
        : Promise.resolve(undefined);
    return this.secret;
  }

  private backoff() {
    return { ...DEFAULT_DELIVERY_BACKOFF, ...withoutUndefined(this.deps.config.notify?.retry ?? {}) };
  }

  private async auditQuietly(record: MigrationRecord, step: string, detail: Record<string, unknown>) {
    const outcome = step === 'notice' ? 'info' : step === 'notice.skipped' ? 'info' : 'error';
    await this.deps.store
      .appendAudit({ migrationId: record.id, vm: record.vmUuid, step, outcome, detail })
      .catch(() => undefined);
  }
}

/** Stable per notice, so that a retry or a second process never sends the same notice twice. */
export function noticeId(record: MigrationRecord, kind: NoticeKind, extra: NoticeExtra = {}): string {
  if (kind === 'reminder') return `${record.id}:${extra.reminderKey ?? 'reminder'}`;
  if (kind === 'scheduled') return `${record.id}:scheduled:${record.deadline ?? 'none'}`;
  return `${record.id}:${kind}`;
}

/** The owner recorded in the domain: the metadata of the XML captured at arm time, else the record's owner. */
function ownerMetadataOf(record: MigrationRecord) {
  const xml = (record.job as Partial<MigrationJob>).inactiveXml;
  const fromXml = xml ? readOwnerMetadata(xml) : undefined;
  return fromXml ?? (record.owner ? { address: record.owner } : undefined);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

const byRuntime = new WeakMap<object, OwnerNotices>();

/** One OwnerNotices per runtime (keyed by the runtime object), made on first use. */
export function noticesFor(rt: {
  config: RehomeConfig;
  store: Store;
  configDir?: string;
}): OwnerNotices | undefined {
  let notices = byRuntime.get(rt);
  if (!notices) {
    try {
      notices = new OwnerNotices({ config: rt.config, store: rt.store, configDir: rt.configDir });
    } catch {
      return undefined;
    }
    byRuntime.set(rt, notices);
  }
  return notices.enabled ? notices : undefined;
}

/** Flushes and closes the runtime's notices, if any were made. */
export async function closeNotices(rt: object): Promise<void> {
  await byRuntime.get(rt)?.close();
  byRuntime.delete(rt);
}

import type { DeliveryRecord, NewAuditEntry, Store } from '../store/types.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { type Channel, type DeliveryResult, errorMessage } from './channel.js';
import { type Delivery, dispatchNotice } from './dispatch.js';
import { isNoticeKind, type Notice } from './notice.js';
import type { NoticeRenderer } from './render.js';

/** Retries by reconcile: 8 tries over about a day, then given up (and audited as such). */
export const DEFAULT_DELIVERY_BACKOFF: BackoffOptions = {
  attempts: 8,
  baseDelayMs: 60_000,
  maxDelayMs: 6 * 3_600_000,
};

/**
 * While the first attempt runs, reconcile must not pick the same delivery up: it only sees it once this grace has
 * passed, i.e. when the process that enqueued it died before recording an outcome.
 */
export const IN_FLIGHT_GRACE_MS = 10 * 60_000;

export interface DeliveryOptions {
  renderer: Pick<NoticeRenderer, 'render'>;
  now?: () => Date;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
}

export interface DeliveryReport {
  sent: number;
  /** Failed this time, to be retried by reconcile. */
  retrying: number;
  /** Failed for good (attempts used up, channel gone, no notice record). */
  abandoned: number;
  /** Already sent or owned by reconcile: not tried now. */
  skipped: number;
  /** Problems recording outcomes (the store itself failing); never thrown. */
  errors: string[];
}

/** `<notice>:<channel>:<recipient>`: the same notice never goes twice to the same place. */
export function deliveryKey(notice: Notice, delivery: Delivery): string {
  return `${notice.id}:${delivery.channel.name}:${delivery.recipient.address}`;
}

/**
 * Enqueues the notice for each delivery (kept with the notice record, for retries), sends it, and records each
 * outcome in the deliveries table and the audit log. Never throws: a migration never fails because of a mailbox.
 */
export async function deliverNotice(
  store: Store,
  migrationId: string,
  notice: Notice,
  deliveries: readonly Delivery[],
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  const report = emptyReport();
  const now = options.now ?? (() => new Date());
  const records = new Map<Delivery, DeliveryRecord>();
  for (const delivery of deliveries) {
    try {
      const record = await store.enqueueDelivery({
        migrationId,
        kind: notice.kind,
        channel: delivery.channel.name,
        recipient: delivery.recipient.address,
        dedupeKey: deliveryKey(notice, delivery),
        notBefore: new Date(now().getTime() + IN_FLIGHT_GRACE_MS).toISOString(),
        notice: notice as unknown as Record<string, unknown>,
      });
      if (record.status === 'pending' && record.attempts === 0) records.set(delivery, record);
      else report.skipped++;
    } catch (error) {
      report.errors.push(`enqueue ${deliveryKey(notice, delivery)}: ${errorMessage(error)}`);
    }
  }
  await sendAndRecord(store, notice, records, options, report);
  return report;
}

/**
 * One pass of reconcile over the deliveries that are due: failed ones whose backoff has passed, and first attempts
 * whose process died. Never throws.
 */
export async function retryDueDeliveries(
  store: Store,
  channels: ReadonlyMap<string, Channel>,
  options: DeliveryOptions & { limit?: number },
): Promise<DeliveryReport> {
  const report = emptyReport();
  const now = options.now ?? (() => new Date());
  let due: DeliveryRecord[];
  try {
    due = await store.listDueDeliveries(now(), options.limit ?? 100);
  } catch (error) {
    report.errors.push(`list due deliveries: ${errorMessage(error)}`);
    return report;
  }
  for (const record of due) {
    const notice = noticeOf(record);
    const channel = channels.get(record.channel);
    if (!notice || !channel) {
      const why = notice
        ? `channel ${record.channel} is no longer configured`
        : 'the delivery has no notice record';
      await abandon(store, record, notice, why, report);
      continue;
    }
    const name = notice.owner.address === record.recipient ? notice.owner.name : undefined;
    const delivery: Delivery = { channel, recipient: { address: record.recipient, name } };
    await sendAndRecord(store, notice, new Map([[delivery, record]]), options, report);
  }
  return report;
}

async function sendAndRecord(
  store: Store,
  notice: Notice,
  records: ReadonlyMap<Delivery, DeliveryRecord>,
  options: DeliveryOptions,
  report: DeliveryReport,
): Promise<void> {
  if (records.size === 0) return;
  const byResult = (result: DeliveryResult) =>
    [...records].find(
      ([d]) => d.channel.name === result.channel && d.recipient.address === result.recipient,
    )?.[1];
  try {
    await dispatchNotice(notice, [...records.keys()], {
      renderer: options.renderer,
      onDelivery: async (result) => {
        const record = byResult(result);
        if (!record) return;
        try {
          await recordOutcome(store, notice, record, result, options, report);
        } catch (error) {
          report.errors.push(`record ${record.id}: ${errorMessage(error)}`);
        }
      },
    });
  } catch (error) {
    report.errors.push(`dispatch ${notice.id}: ${errorMessage(error)}`);
  }
}

async function recordOutcome(
  store: Store,
  notice: Notice,
  record: DeliveryRecord,
  result: DeliveryResult,
  options: DeliveryOptions,
  report: DeliveryReport,
): Promise<void> {
  const detail = {
    deliveryId: record.id,
    noticeId: notice.id,
    kind: notice.kind,
    channel: result.channel,
    channelType: result.channelType,
    recipient: result.recipient,
    attempt: record.attempts + 1,
    durationMs: result.durationMs,
  };
  if (result.ok) {
    await store.markDeliverySent(record.id);
    report.sent++;
    await audit(store, record, notice, 'notice.delivered', 'ok', { ...detail, response: result.detail });
    return;
  }
  const backoff = { ...DEFAULT_DELIVERY_BACKOFF, ...options.backoff };
  const attempts = record.attempts + 1;
  const error = result.error ?? 'failed';
  if (attempts >= backoff.attempts) {
    await store.markDeliveryFailed(record.id, error, null);
    report.abandoned++;
    await audit(store, record, notice, 'notice.delivery-abandoned', 'error', { ...detail, error });
    return;
  }
  const now = options.now ?? (() => new Date());
  const retryAt = new Date(now().getTime() + backoffDelay(attempts, backoff, options.random));
  await store.markDeliveryFailed(record.id, error, retryAt);
  report.retrying++;
  await audit(store, record, notice, 'notice.delivery-failed', 'error', {
    ...detail,
    error,
    retryAt: retryAt.toISOString(),
  });
}

async function abandon(
  store: Store,
  record: DeliveryRecord,
  notice: Notice | undefined,
  why: string,
  report: DeliveryReport,
): Promise<void> {
  try {
    await store.markDeliveryFailed(record.id, why, null);
    report.abandoned++;
    await audit(store, record, notice, 'notice.delivery-abandoned', 'error', {
      deliveryId: record.id,
      channel: record.channel,
      recipient: record.recipient,
      error: why,
    });
  } catch (error) {
    report.errors.push(`abandon ${record.id}: ${errorMessage(error)}`);
  }
}

function audit(
  store: Store,
  record: DeliveryRecord,
  notice: Notice | undefined,
  step: string,
  outcome: NewAuditEntry['outcome'],
  detail: Record<string, unknown>,
) {
  return store.appendAudit({
    migrationId: record.migrationId,
    vm: notice?.vm.uuid ?? 'unknown',
    step,
    outcome,
    detail,
  });
}

function noticeOf(record: DeliveryRecord): Notice | undefined {
  const notice = record.notice as Partial<Notice> | null;
  if (!notice || typeof notice.id !== 'string' || typeof notice.kind !== 'string') return undefined;
  if (!isNoticeKind(notice.kind) || !notice.vm || !notice.owner) return undefined;
  return notice as Notice;
}

function emptyReport(): DeliveryReport {
  return { sent: 0, retrying: 0, abandoned: 0, skipped: 0, errors: [] };
}

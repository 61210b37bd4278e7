import { type Channel, type DeliveryResult, errorMessage, type Recipient } from './channel.js';
import type { Notice } from './notice.js';
import type { NoticeRenderer, RenderedNotice } from './render.js';

/** One place to send a notice: a channel and the owner's address in it. */
export interface Delivery {
  channel: Channel;
  recipient: Recipient;
}

export interface DispatchOptions {
  renderer: Pick<NoticeRenderer, 'render'>;
  /** Called once per delivery as it finishes, for the audit log. Its own errors propagate to the caller. */
  onDelivery?: (result: DeliveryResult) => void | Promise<void>;
}

export interface DispatchOutcome {
  /** Absent when rendering failed (a broken override template); every result then carries that error. */
  rendered?: RenderedNotice;
  results: DeliveryResult[];
}

/**
 * Renders `notice` once and sends it to every delivery in parallel. Never rejects because a delivery failed: failures
 * come back as results, for the caller to log and to retry later (reconcile). A migration never waits on a mailbox.
 */
export async function dispatchNotice(
  notice: Notice,
  deliveries: readonly Delivery[],
  options: DispatchOptions,
): Promise<DispatchOutcome> {
  let rendered: RenderedNotice;
  try {
    rendered = options.renderer.render(notice);
  } catch (error) {
    const results = deliveries.map((d) =>
      renderFailure(notice, d, `rendering failed: ${errorMessage(error)}`),
    );
    for (const result of results) await options.onDelivery?.(result);
    return { results };
  }
  const results = await Promise.all(
    deliveries.map(async ({ channel, recipient }) => {
      let result: DeliveryResult;
      try {
        result = await channel.send(rendered, recipient);
      } catch (error) {
        // A channel should resolve, not reject; a third-party one might not.
        result = renderFailure(notice, { channel, recipient }, errorMessage(error));
        result.attempts = 1;
      }
      await options.onDelivery?.(result);
      return result;
    }),
  );
  return { rendered, results };
}

function renderFailure(notice: Notice, { channel, recipient }: Delivery, error: string): DeliveryResult {
  return {
    noticeId: notice.id,
    noticeKind: notice.kind,
    channel: channel.name,
    channelType: channel.type,
    recipient: recipient.address,
    ok: false,
    attempts: 0,
    error,
    startedAt: new Date().toISOString(),
    durationMs: 0,
  };
}

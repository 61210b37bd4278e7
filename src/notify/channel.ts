import type { NoticeKind } from './notice.js';
import type { RenderedNotice } from './render.js';

export type ChannelType = 'smtp' | 'webhook' | 'command';

/** Who a channel delivers to: an e-mail address for SMTP; for webhook and command, the owner id they pass on. */
export interface Recipient {
  address: string;
  name?: string;
}

/** The outcome of one delivery, for the audit log. A failure is a value, never an exception. */
export interface DeliveryResult {
  noticeId: string;
  noticeKind: NoticeKind;
  /** The channel's configured name, e.g. "mail" or "ops-webhook". */
  channel: string;
  channelType: ChannelType;
  recipient: string;
  ok: boolean;
  attempts: number;
  /** Why it failed (for a command, with its stderr). */
  error?: string;
  /** What the far side said on success: an SMTP response, an HTTP status. */
  detail?: string;
  startedAt: string;
  durationMs: number;
}

export interface Channel {
  readonly name: string;
  readonly type: ChannelType;
  /** Resolves with a failed result rather than rejecting when delivery fails. */
  send(rendered: RenderedNotice, recipient: Recipient): Promise<DeliveryResult>;
}

export interface AttemptOutcome {
  ok: boolean;
  attempts: number;
  error?: string;
  detail?: string;
}

/** Times one delivery and turns it (or whatever it throws) into a DeliveryResult. */
export async function timedDelivery(
  channel: Channel,
  rendered: RenderedNotice,
  recipient: Recipient,
  deliver: () => Promise<AttemptOutcome>,
): Promise<DeliveryResult> {
  const started = Date.now();
  let outcome: AttemptOutcome;
  try {
    outcome = await deliver();
  } catch (error) {
    outcome = { ok: false, attempts: 1, error: errorMessage(error) };
  }
  return {
    noticeId: rendered.id,
    noticeKind: rendered.kind,
    channel: channel.name,
    channelType: channel.type,
    recipient: recipient.address,
    ...outcome,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause = error.cause instanceof Error ? `: ${errorMessage(error.cause)}` : '';
    return `${code && !error.message.includes(code) ? `${code} ` : ''}${error.message}${cause}`;
  }
  return String(error);
}

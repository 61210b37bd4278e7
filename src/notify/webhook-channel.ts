import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, sleep } from './backoff.js';
import {
  type AttemptOutcome,
  type Channel,
  type DeliveryResult,
  errorMessage,
  type Recipient,
  timedDelivery,
} from './channel.js';
import type { RenderedNotice } from './render.js';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.js';

export interface WebhookChannelOptions {
  name?: string;
  url: string;
  /** Shared with the receiver, which checks X-Rehome-Signature with verifyWebhookSignature. */
  secret: string;
  /** Per attempt. */
  timeoutMs?: number;
  retry?: Partial<BackoffOptions>;
  /** Extra headers, e.g. an Authorization the receiver's proxy wants. */
  headers?: Record<string, string>;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  nowSeconds?: () => number;
}

type Attempt = { ok: true; detail: string } | { ok: false; retryable: boolean; error: string };

/**
 * POSTs the notice's JSON payload, signed. Retries network errors, timeouts, 5xx and 429 with jittered exponential
 * backoff; other 4xx (and redirects, which would drop the POST body) fail at once.
 */
export class WebhookChannel implements Channel {
  readonly name: string;
  readonly type = 'webhook' as const;
  private readonly backoff: BackoffOptions;

  constructor(private readonly options: WebhookChannelOptions) {
    this.name = options.name ?? 'webhook';
    this.backoff = { ...DEFAULT_BACKOFF, ...options.retry };
  }

  send(rendered: RenderedNotice, recipient: Recipient): Promise<DeliveryResult> {
    return timedDelivery(this, rendered, recipient, () => this.deliver(JSON.stringify(rendered.payload)));
  }

  private async deliver(body: string): Promise<AttemptOutcome> {
    const wait = this.options.sleep ?? sleep;
    const errors: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(body);
      if (result.ok) return { ok: true, attempts: attempt, detail: result.detail };
      errors.push(`attempt ${attempt}: ${result.error}`);
      if (!result.retryable || attempt >= this.backoff.attempts) {
        return { ok: false, attempts: attempt, error: errors.join('; ') };
      }
      await wait(backoffDelay(attempt, this.backoff, this.options.random));
    }
  }

  private async attempt(body: string): Promise<Attempt> {
    const timestamp = String(this.options.nowSeconds?.() ?? Math.floor(Date.now() / 1000));
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        headers: {
          ...this.options.headers,
          'Content-Type': 'application/json',
          'User-Agent': 'rehome',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(this.options.secret, timestamp, body),
        },
        body,
      });
    } catch (error) {
      return { ok: false, retryable: true, error: errorMessage(error) };
    }
    const excerpt = (await response.text().catch(() => '')).slice(0, 200);
    const status = `HTTP ${response.status}${excerpt ? ` ${excerpt}` : ''}`;
    if (response.status >= 200 && response.status < 300)
      return { ok: true, detail: `HTTP ${response.status}` };
    const retryable = response.status >= 500 || response.status === 429;
    return { ok: false, retryable, error: status };
  }
}

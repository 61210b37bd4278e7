import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'X-Rehome-Timestamp';
export const SIGNATURE_HEADER = 'X-Rehome-Signature';

/** "sha256=<hex>", the HMAC-SHA256 of "<timestamp>.<body>" with the shared secret. */
export function signWebhook(secret: string, timestamp: number | string, body: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `sha256=${mac}`;
}

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way; 300 s by default. Bounds replays. */
  toleranceSeconds?: number;
  /** Unix seconds; for tests. */
  nowSeconds?: number;
}

/**
 * For receivers: true when `header` is the signature of exactly this body and timestamp, and the timestamp is fresh.
 * Pass the raw body bytes as received, before any JSON parsing.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | undefined,
  body: string | Buffer,
  header: string | undefined,
  options: VerifyOptions = {},
): boolean {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || !header) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type LinkAction = 'reboot' | 'reschedule';
export const LINK_ACTIONS: readonly LinkAction[] = ['reboot', 'reschedule'];

/** What a link token carries. It is readable by whoever holds the link (base64url), and only signed, not secret. */
export interface LinkPayload {
  /** Migration id. */
  mid: string;
  /** The VM's UUID. */
  vm: string;
  action: LinkAction;
  /** Expiry, Unix seconds. */
  exp: number;
  /** Random; the single-use record is kept by nonce. */
  nonce: string;
}

export type TokenCheck =
  | { ok: true; payload: LinkPayload }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired'; claimed?: Partial<LinkPayload> };

const PATTERN = /^[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{43}$/;
// Keeps link MACs apart from any other use of the same secret.
const MAC_CONTEXT = 'rehome.link.v1.';

function mac(secret: string | Buffer, encodedPayload: string): Buffer {
  return createHmac('sha256', secret).update(MAC_CONTEXT).update(encodedPayload).digest();
}

export interface SignLinkInput {
  migrationId: string;
  vmUuid: string;
  action: LinkAction;
  expiresAt: Date;
  /** Random by default. */
  nonce?: string;
}

/** base64url(JSON payload) + "." + base64url(HMAC-SHA256). */
export function signLinkToken(secret: string | Buffer, input: SignLinkInput): string {
  const payload: LinkPayload = {
    mid: input.migrationId,
    vm: input.vmUuid,
    action: input.action,
    exp: Math.floor(input.expiresAt.getTime() / 1000),
    nonce: input.nonce ?? randomBytes(16).toString('base64url'),
  };
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${encoded}.${mac(secret, encoded).toString('base64url')}`;
}

/**
 * Checks form, signature (constant time) and expiry, in that order. Single use is the store's business
 * (markTokenUsed), since it needs shared state.
 */
export function verifyLinkToken(secret: string | Buffer, token: string, now: Date): TokenCheck {
  if (!PATTERN.test(token)) return { ok: false, reason: 'malformed' };
  const [encoded = '', signature = ''] = token.split('.');
  const claimed = decodePayload(encoded);
  const expected = mac(secret, encoded);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature', claimed: claimed ?? undefined };
  }
  if (!claimed || !isPayload(claimed)) return { ok: false, reason: 'malformed' };
  if (claimed.exp * 1000 <= now.getTime()) return { ok: false, reason: 'expired', claimed };
  return { ok: true, payload: claimed };
}

function decodePayload(encoded: string): Partial<LinkPayload> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Partial<LinkPayload>)
      : null;
  } catch {
    return null;
  }
}

function isPayload(value: Partial<LinkPayload>): value is LinkPayload {
  return (
    typeof value.mid === 'string' &&
    typeof value.vm === 'string' &&
    typeof value.nonce === 'string' &&
    value.nonce.length >= 8 &&
    typeof value.exp === 'number' &&
    Number.isFinite(value.exp) &&
    LINK_ACTIONS.includes(value.action as LinkAction)
  );
}

/**
 * `<baseUrl>r/<token>`. The base URL is the only absolute URL rehome assumes: a path prefix (a reverse proxy's
 * /rehome/) is kept, and a missing trailing slash added.
 */
export function linkUrl(baseUrl: string, token: string): string {
  const base = new URL(baseUrl);
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  base.search = '';
  base.hash = '';
  return new URL(`r/${token}`, base).toString();
}

import { createHmac } from 'node:crypto';
import test from 'ava';
import { backoffDelay } from '../../src/notify/backoff.js';
import { signWebhook, verifyWebhookSignature } from '../../src/notify/webhook-signature.js';

const SECRET = 's3cret-shared';
const BODY = '{"vm":{"name":"<x> it\'s \\"y\\""}}';
const NOW = 1_800_000_000;

test('the signature is HMAC-SHA256 over "<timestamp>.<body>", as documented', (t) => {
  const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
  t.is(signWebhook(SECRET, NOW, BODY), `sha256=${expected}`);
});

test('a genuine signature verifies, from a string or the raw bytes', (t) => {
  const header = signWebhook(SECRET, NOW, BODY);
  t.true(verifyWebhookSignature(SECRET, String(NOW), BODY, header, { nowSeconds: NOW }));
  t.true(verifyWebhookSignature(SECRET, String(NOW), Buffer.from(BODY), header, { nowSeconds: NOW + 10 }));
});

test('tampering with the body, the timestamp or the secret fails', (t) => {
  const header = signWebhook(SECRET, NOW, BODY);
  const opts = { nowSeconds: NOW };
  t.false(verifyWebhookSignature(SECRET, String(NOW), `${BODY} `, header, opts));
  t.false(verifyWebhookSignature(SECRET, String(NOW + 1), BODY, header, { nowSeconds: NOW + 1 }));
  t.false(verifyWebhookSignature('other', String(NOW), BODY, header, opts));
});

test('stale or future timestamps fail outside the tolerance', (t) => {
  const header = signWebhook(SECRET, NOW, BODY);
  t.false(verifyWebhookSignature(SECRET, String(NOW), BODY, header, { nowSeconds: NOW + 301 }));
  t.false(verifyWebhookSignature(SECRET, String(NOW), BODY, header, { nowSeconds: NOW - 301 }));
  t.true(
    verifyWebhookSignature(SECRET, String(NOW), BODY, header, {
      nowSeconds: NOW + 900,
      toleranceSeconds: 900,
    }),
  );
});

test('malformed headers and timestamps fail without throwing', (t) => {
  const header = signWebhook(SECRET, NOW, BODY);
  const opts = { nowSeconds: NOW };
  t.false(verifyWebhookSignature(SECRET, undefined, BODY, header, opts));
  t.false(verifyWebhookSignature(SECRET, String(NOW), BODY, undefined, opts));
  t.false(verifyWebhookSignature(SECRET, `${NOW}.5`, BODY, header, opts));
  t.false(verifyWebhookSignature(SECRET, String(NOW), BODY, header.slice(0, -1), opts));
  t.false(verifyWebhookSignature(SECRET, String(NOW), BODY, header.replace('sha256=', 'sha1='), opts));
  t.false(verifyWebhookSignature(SECRET, String(NOW), BODY, `${header}00`, opts));
});

test('backoff grows exponentially, is capped, and jitters within [ceiling/2, ceiling]', (t) => {
  const opts = { attempts: 8, baseDelayMs: 100, maxDelayMs: 1000 };
  t.deepEqual(
    [1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts, () => 0)),
    [50, 100, 200, 400, 500],
  );
  t.deepEqual(
    [1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts, () => 1)),
    [100, 200, 400, 800, 1000],
  );
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, opts);
    t.true(d >= 200 && d <= 400, String(d));
  }
});

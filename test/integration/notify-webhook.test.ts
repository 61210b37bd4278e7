import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import test from 'ava';
import type { Notice } from '../../src/notify/notice.js';
import { NoticeRenderer } from '../../src/notify/render.js';
import { WebhookChannel } from '../../src/notify/webhook-channel.js';
import { signWebhook, verifyWebhookSignature } from '../../src/notify/webhook-signature.js';

const SECRET = 'whsec-test-1';
const notice: Notice = {
  id: 'mig-9:reminder:2',
  kind: 'reminder',
  vm: {
    name: `<script>alert(1)</script> it's "x" $(rm -rf /)`,
    uuid: 'a5a5a5a5-0000-4000-8000-000000000009',
  },
  owner: { address: 'team-42', name: `Eve <>&" O'Hara`, timeZone: 'Europe/Paris' },
  deadline: '2026-12-15T22:00:00Z',
  rebootUrl: 'https://rehome.example/r/t?a=1&b=2',
  ipAndMacKept: true,
  reason: 'host maintenance',
  operator: { address: 'ops@example.test' },
  sentAt: '2026-12-14T22:00:00Z',
};
const rendered = new NoticeRenderer().render(notice);

interface Hit {
  headers: IncomingMessage['headers'];
  body: string;
  valid: boolean;
}

/** A real receiver: checks the signature on the raw body, then answers with `statusFor(n)` for the n-th request. */
async function startReceiver(statusFor: (n: number) => number) {
  const hits: Hit[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const valid = verifyWebhookSignature(
        SECRET,
        req.headers['x-rehome-timestamp'] as string | undefined,
        body,
        req.headers['x-rehome-signature'] as string | undefined,
        { toleranceSeconds: 300 },
      );
      hits.push({ headers: req.headers, body: body.toString('utf8'), valid });
      res.statusCode = valid ? statusFor(hits.length) : 401;
      res.end(valid ? 'ok' : 'bad signature');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}/hooks/rehome`,
    hits,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

test('the receiver verifies the signature and gets the exact payload', async (t) => {
  const receiver = await startReceiver(() => 204);
  t.teardown(() => receiver.stop());
  const channel = new WebhookChannel({ name: 'hook', url: receiver.url, secret: SECRET });
  const result = await channel.send(rendered, { address: 'team-42' });
  t.true(result.ok, result.error);
  t.is(result.attempts, 1);
  t.is(result.detail, 'HTTP 204');
  t.is(receiver.hits.length, 1);
  const [hit] = receiver.hits;
  if (!hit) return;
  t.true(hit.valid);
  t.is(hit.headers['content-type'], 'application/json');
  t.regex(String(hit.headers['x-rehome-signature']), /^sha256=[0-9a-f]{64}$/);
  t.true(Math.abs(Number(hit.headers['x-rehome-timestamp']) - Date.now() / 1000) < 10);
  t.deepEqual(JSON.parse(hit.body), rendered.payload);
  t.is(JSON.parse(hit.body).vm.name, notice.vm.name);
});

test('the receiver rejects a tampered body carrying a genuine signature', async (t) => {
  const receiver = await startReceiver(() => 204);
  t.teardown(() => receiver.stop());
  const body = JSON.stringify(rendered.payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const tampered = body.replace('host maintenance', 'nothing to see');
  t.not(tampered, body);
  const response = await fetch(receiver.url, {
    method: 'POST',
    headers: { 'X-Rehome-Timestamp': timestamp, 'X-Rehome-Signature': signWebhook(SECRET, timestamp, body) },
    body: tampered,
  });
  t.is(response.status, 401);
  t.false(receiver.hits[0]?.valid);
});

test('a wrong secret gets 401, which is not retried', async (t) => {
  const receiver = await startReceiver(() => 204);
  t.teardown(() => receiver.stop());
  const { waits, sleep } = recordingSleep();
  const channel = new WebhookChannel({ url: receiver.url, secret: 'wrong', sleep });
  const result = await channel.send(rendered, { address: 'team-42' });
  t.false(result.ok);
  t.is(result.attempts, 1);
  t.regex(result.error ?? '', /HTTP 401 bad signature/);
  t.deepEqual(waits, []);
});

test('503 twice then 200: three attempts, jittered exponential waits, each freshly signed', async (t) => {
  const receiver = await startReceiver((n) => (n <= 2 ? 503 : 200));
  t.teardown(() => receiver.stop());
  const { waits, sleep } = recordingSleep();
  const channel = new WebhookChannel({
    url: receiver.url,
    secret: SECRET,
    retry: { attempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 },
    sleep,
    random: () => 0.5,
  });
  const result = await channel.send(rendered, { address: 'team-42' });
  t.true(result.ok, result.error);
  t.is(result.attempts, 3);
  t.is(receiver.hits.length, 3);
  t.true(receiver.hits.every((h) => h.valid));
  t.deepEqual(waits, [750, 1500]);
  t.is(new Set(receiver.hits.map((h) => h.body)).size, 1, 'the same body every time');
});

test('always 500: gives up after the bounded number of attempts, with every error', async (t) => {
  const receiver = await startReceiver(() => 500);
  t.teardown(() => receiver.stop());
  const { waits, sleep } = recordingSleep();
  const channel = new WebhookChannel({ url: receiver.url, secret: SECRET, retry: { attempts: 4 }, sleep });
  const result = await channel.send(rendered, { address: 'team-42' });
  t.false(result.ok);
  t.is(result.attempts, 4);
  t.is(receiver.hits.length, 4);
  t.is(waits.length, 3);
  t.regex(result.error ?? '', /attempt 1: HTTP 500.*attempt 4: HTTP 500/);
});

test('a 404 is not retried', async (t) => {
  const receiver = await startReceiver(() => 404);
  t.teardown(() => receiver.stop());
  const { sleep } = recordingSleep();
  const result = await new WebhookChannel({ url: receiver.url, secret: SECRET, sleep }).send(rendered, {
    address: 'team-42',
  });
  t.false(result.ok);
  t.is(result.attempts, 1);
  t.is(receiver.hits.length, 1);
});

test('connection refused is retried, then reported, never thrown', async (t) => {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  const { waits, sleep } = recordingSleep();
  const channel = new WebhookChannel({
    url: `http://127.0.0.1:${address.port}/`,
    secret: SECRET,
    retry: { attempts: 3 },
    sleep,
  });
  const result = await channel.send(rendered, { address: 'team-42' });
  t.false(result.ok);
  t.is(result.attempts, 3);
  t.is(waits.length, 2);
  t.regex(result.error ?? '', /ECONNREFUSED/);
});

test('a receiver that hangs times out and is retried', async (t) => {
  const server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const { sleep } = recordingSleep();
  const channel = new WebhookChannel({
    url: `http://127.0.0.1:${address.port}/`,
    secret: SECRET,
    timeoutMs: 200,
    retry: { attempts: 2 },
    sleep,
  });
  const result = await channel.send(rendered, { address: 'team-42' });
  t.false(result.ok);
  t.is(result.attempts, 2);
  t.regex(result.error ?? '', /timeout|aborted/i);
});

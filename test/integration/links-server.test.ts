import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { linkUrl, signLinkToken } from '../../src/notify/links.js';
import {
  type LinksServerLimits,
  type RunningLinksServer,
  startLinksServer,
} from '../../src/notify/links-server.js';
import { type MigrationRecord, type OpenedSqliteStore, openSqliteStore } from '../../src/store/index.js';
import { fixedClock } from '../helpers/fixed-clock.js';

const SECRET = 'integration-secret-0123456789-abcdefghij';
const HOSTILE_VM = `<script>alert(1)</script>"x'`;

interface Fixture {
  store: OpenedSqliteStore;
  server: RunningLinksServer;
  baseUrl: string;
  migration: MigrationRecord;
  reboots: string[];
  reschedules: { id: string; deadline: string }[];
  clock: { ms: number };
  /** What the engine does with the next requests. */
  engine: { mode: 'ok' | 'busy' | 'fail-before-claim' | 'fail-after-claim' };
  cleanup(): Promise<void>;
}

/** The engine's answer when the VM is locked by another process (the store's LockedError has this kind). */
class BusyError extends Error {
  readonly kind = 'locked';
}

async function fixture(
  options: { prefix?: string; failCallback?: boolean; limits?: Partial<LinksServerLimits> } = {},
): Promise<Fixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rehome-links-'));
  const clock = fixedClock('2026-12-01T10:00:00Z');
  const { now } = clock;
  const store = openSqliteStore(path.join(dir, 'rehome.db'), { now });
  const migration = await store.createMigration({
    vmName: HOSTILE_VM,
    vmUuid: '6f1c2a57-0000-4000-8000-000000000001',
    sourceHost: 'kvm1',
    targetHost: 'kvm2',
    deadline: '2026-12-15T22:00:00.000Z',
    owner: 'alice@example.net',
  });
  const reboots: string[] = [];
  const reschedules: { id: string; deadline: string }[] = [];
  const prefix = options.prefix ?? '';
  const engine: Fixture['engine'] = { mode: options.failCallback ? 'fail-after-claim' : 'ok' };
  // As the engine does: refuse before claiming when it cannot act, claim with the lock held, act only on true.
  const act = async (claim: () => Promise<boolean>, done: () => void) => {
    if (engine.mode === 'busy') throw new BusyError('VM is locked by pid 4242 (watch: cutover)');
    if (engine.mode === 'fail-before-claim') throw new Error('libvirtd on kvm1 is unreachable');
    if (!(await claim())) return;
    if (engine.mode === 'fail-after-claim') throw new Error('engine exploded');
    done();
  };
  // The base URL's port is only known once listening; the server reads just its path, so a placeholder host is fine.
  const server = await startLinksServer(
    {
      store,
      secret: SECRET,
      now,
      baseUrl: `https://proxy.example.net${prefix}/`,
      ownerTimeZone: () => 'Europe/Paris',
      operatorContact: 'Ops <ops@example.net>',
      maxDeadlineDays: 30,
      callbacks: {
        onReboot: (id, claim) => act(claim, () => reboots.push(id)),
        onReschedule: (id, deadline, claim) =>
          act(claim, () => reschedules.push({ id, deadline: deadline.toISOString() })),
      },
      limits: options.limits,
    },
    { host: '127.0.0.1', port: 0 },
  );
  return {
    store,
    server,
    baseUrl: `${server.origin}${prefix}/`,
    migration,
    reboots,
    reschedules,
    clock,
    engine,
    cleanup: async () => {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function token(f: Fixture, action: 'reboot' | 'reschedule' = 'reboot', expiresAt = '2026-12-15T22:00:00Z') {
  return signLinkToken(SECRET, {
    migrationId: f.migration.id,
    vmUuid: f.migration.vmUuid,
    action,
    expiresAt: new Date(expiresAt),
  });
}

function post(url: string, form: Record<string, string>) {
  return fetch(url, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' });
}

async function steps(f: Fixture): Promise<{ step: string; reason?: unknown; migrationId: string | null }[]> {
  return (await f.store.listAudit())
    .filter((e) => e.step.startsWith('link.'))
    .map((e) => ({ step: e.step, reason: e.detail.reason, migrationId: e.migrationId }));
}

function withFixture(
  options: Parameters<typeof fixture>[0],
  run: (t: ExecutionContext, f: Fixture) => Promise<void>,
) {
  return async (t: ExecutionContext) => {
    const f = await fixture(options);
    try {
      await run(t, f);
    } finally {
      await f.cleanup();
    }
  };
}

test(
  'GET shows what will happen, escaped, and never acts',
  withFixture({}, async (t, f) => {
    const url = linkUrl(f.baseUrl, token(f));
    for (let i = 0; i < 3; i++) {
      const response = await fetch(url);
      t.is(response.status, 200);
      const html = await response.text();
      t.true(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      t.false(html.includes('<script>'));
      t.true(html.includes('Tuesday 15 December 2026, 22:00 UTC'));
      t.true(html.includes('Tuesday 15 December 2026, 23:00 CET (UTC+01:00, Europe/Paris)'));
      t.true(html.includes('one reboot'));
      t.true(html.includes('IP and MAC'));
      t.regex(html, /<form method="post" action="">/);
      t.is(response.headers.get('referrer-policy'), 'no-referrer');
      t.is(response.headers.get('cache-control'), 'no-store');
    }
    const head = await fetch(url, { method: 'HEAD' });
    t.is(head.status, 200);
    t.deepEqual(f.reboots, []);
    t.true(await f.store.markTokenUsed('probe-nonce'), 'the store still works');
    t.deepEqual(await steps(f), []);
  }),
);

test(
  'a valid POST calls the callback once; the same link again is refused and audited',
  withFixture({}, async (t, f) => {
    const url = linkUrl(f.baseUrl, token(f));
    const first = await post(url, { action: 'reboot' });
    t.is(first.status, 202);
    t.regex(await first.text(), /being moved now/);
    t.deepEqual(f.reboots, [f.migration.id]);
    const second = await post(url, { action: 'reboot' });
    t.is(second.status, 403);
    t.regex(await second.text(), /already been used/);
    t.deepEqual(f.reboots, [f.migration.id]);
    t.deepEqual(await steps(f), [
      { step: 'link.reboot-requested', reason: undefined, migrationId: f.migration.id },
      { step: 'link.rejected', reason: 'reused', migrationId: f.migration.id },
    ]);
  }),
);

test(
  'concurrent POSTs of one link act once',
  withFixture({}, async (t, f) => {
    const url = linkUrl(f.baseUrl, token(f));
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () => post(url, { action: 'reboot' }).then((r) => r.status)),
    );
    t.deepEqual(statuses.sort(), [202, 403, 403, 403, 403, 403, 403, 403]);
    t.deepEqual(f.reboots, [f.migration.id]);
  }),
);

test(
  'forged, tampered, expired and unknown-migration tokens get 403, change nothing, and are counted per client and minute',
  withFixture({}, async (t, f) => {
    const forged = signLinkToken('someone-elses-secret-0123456789-abcdefgh', {
      migrationId: f.migration.id,
      vmUuid: f.migration.vmUuid,
      action: 'reboot',
      expiresAt: new Date('2026-12-15T22:00:00Z'),
    });
    const [payload, signature] = token(f).split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    const tampered = `${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86400 })).toString('base64url')}.${signature}`;
    const expired = token(f, 'reboot', '2026-12-01T09:59:59Z');
    const unknown = signLinkToken(SECRET, {
      migrationId: 'no-such-migration',
      vmUuid: f.migration.vmUuid,
      action: 'reboot',
      expiresAt: new Date('2026-12-15T22:00:00Z'),
    });
    for (const bad of [forged, tampered, expired, unknown, 'garbage']) {
      const response = await post(linkUrl(f.baseUrl, bad), { action: 'reboot' });
      t.is(response.status, 403, bad);
      t.regex(await response.text(), /Nothing was changed/);
    }
    t.deepEqual(f.reboots, []);
    // None of them burnt the real token.
    const real = await post(linkUrl(f.baseUrl, token(f)), { action: 'reboot' });
    t.is(real.status, 202);
    // Counted per client and minute: one entry, written once the minute is over (here: when the server closes).
    t.deepEqual(await steps(f), [
      { step: 'link.reboot-requested', reason: undefined, migrationId: f.migration.id },
    ]);
    f.clock.ms += 60_000;
    t.is((await post(linkUrl(f.baseUrl, 'garbage'), { action: 'reboot' })).status, 403);
    await f.server.close();
    const counted = (await f.store.listAudit()).filter((e) => e.step === 'link.rejected');
    t.is(counted.length, 2);
    t.like(counted[0]?.detail, {
      client: '127.0.0.1',
      minute: '2026-12-01T10:00',
      count: 5,
      reasons: { 'bad-signature': 2, expired: 1, 'unknown-migration': 1, malformed: 1 },
    });
    t.like(counted[1]?.detail, { minute: '2026-12-01T10:01', count: 1, reasons: { malformed: 1 } });
  }),
);

test(
  'a reboot link cannot reschedule, nor a reschedule link reboot',
  withFixture({}, async (t, f) => {
    const reboot = linkUrl(f.baseUrl, token(f, 'reboot'));
    t.is((await post(reboot, { action: 'reschedule', deadline: '+2d' })).status, 403);
    const reschedule = linkUrl(f.baseUrl, token(f, 'reschedule'));
    t.is((await post(reschedule, { action: 'reboot' })).status, 403);
    t.deepEqual(f.reboots, []);
    t.deepEqual(f.reschedules, []);
  }),
);

test(
  'reschedule: a wall-clock time in the owner zone, inside the window; outside it the link stays usable',
  withFixture({}, async (t, f) => {
    const url = linkUrl(f.baseUrl, token(f, 'reschedule'));
    const page = await (await fetch(url)).text();
    t.regex(
      page,
      /name="deadline" required value="2026-12-15T23:00" min="2026-12-01T11:00" max="2026-12-31T11:00"/,
    );
    const tooLate = await post(url, {
      action: 'reschedule',
      zone: 'Europe/Paris',
      deadline: '2027-01-02T10:00',
    });
    t.is(tooLate.status, 400);
    t.regex(await tooLate.text(), /operator&#39;s limit|operator's limit/);
    const bad = await post(url, { action: 'reschedule', zone: 'Europe/Paris', deadline: 'next week' });
    t.is(bad.status, 400);
    t.deepEqual(f.reschedules, []);
    const ok = await post(url, { action: 'reschedule', zone: 'Europe/Paris', deadline: '2026-12-20T09:30' });
    t.is(ok.status, 202);
    t.deepEqual(f.reschedules, [{ id: f.migration.id, deadline: '2026-12-20T08:30:00.000Z' }]);
    t.is((await post(url, { action: 'reschedule', zone: 'UTC', deadline: '2026-12-21T09:30' })).status, 403);
  }),
);

test(
  'behind a reverse proxy: served under the base path, and under the bare path a stripping proxy sends',
  withFixture({ prefix: '/ops/rehome' }, async (t, f) => {
    const tok = token(f);
    const prefixed = linkUrl(f.baseUrl, tok);
    t.true(prefixed.includes('/ops/rehome/r/'));
    t.is((await fetch(prefixed)).status, 200);
    t.is((await fetch(`${f.server.origin}/r/${tok}`)).status, 200);
    t.is((await fetch(`${f.server.origin}/other/r/${tok}`)).status, 404);
    t.is((await post(prefixed, { action: 'reboot' })).status, 202);
    t.deepEqual(f.reboots, [f.migration.id]);
  }),
);

test(
  'a VM busy elsewhere answers "already in progress" and leaves the link usable; so does a failure before acting',
  withFixture({}, async (t, f) => {
    const url = linkUrl(f.baseUrl, token(f));
    f.engine.mode = 'busy';
    const busy = await post(url, { action: 'reboot' });
    t.is(busy.status, 409);
    t.regex(await busy.text(), /Already in progress[\s\S]*this link still works/);
    f.engine.mode = 'fail-before-claim';
    const failed = await post(url, { action: 'reboot' });
    t.is(failed.status, 503);
    t.regex(await failed.text(), /this link still works/);
    t.deepEqual(f.reboots, []);
    f.engine.mode = 'ok';
    t.is((await post(url, { action: 'reboot' })).status, 202);
    t.deepEqual(f.reboots, [f.migration.id]);
    t.is((await post(url, { action: 'reboot' })).status, 403);
  }),
);

test(
  'a callback failure after acting began is a 500, audited; a finished migration is 410 and acts not',
  withFixture({ failCallback: true }, async (t, f) => {
    const response = await post(linkUrl(f.baseUrl, token(f)), { action: 'reboot' });
    t.is(response.status, 500);
    t.like((await f.store.listAudit()).find((e) => e.step === 'link.action-failed')?.detail, {
      action: 'reboot',
      error: 'engine exploded',
    });
    await f.store.updatePhase(f.migration.id, 'planned', 'cancelled');
    t.is((await fetch(linkUrl(f.baseUrl, token(f)))).status, 410);
    t.is((await post(linkUrl(f.baseUrl, token(f)), { action: 'reboot' })).status, 410);
  }),
);

test(
  'other methods and oversized bodies are refused',
  withFixture({}, async (t, f) => {
    const url = linkUrl(f.baseUrl, token(f));
    const put = await fetch(url, { method: 'PUT', body: 'x' });
    t.is(put.status, 405);
    t.is(put.headers.get('allow'), 'GET, HEAD, POST');
    t.is((await post(url, { action: 'reboot', pad: 'x'.repeat(10_000) })).status, 413);
    t.deepEqual(f.reboots, []);
  }),
);

test(
  'a flood of forged links writes one audit entry per client and minute, not one per request',
  withFixture({}, async (t, f) => {
    const forged = linkUrl(f.baseUrl, 'eyJtaWQiOiJ4In0.forged');
    for (let batch = 0; batch < 25; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, () => post(forged, { action: 'reboot' }).then((r) => r.arrayBuffer())),
      );
    }
    await f.server.close();
    const rows = (await f.store.listAudit()).filter((e) => e.step === 'link.rejected');
    t.is(rows.length, 1);
    t.like(rows[0]?.detail, { count: 500 });
  }),
);

/** A raw TCP client: writes `head`, then trickles `trickle` one byte per `everyMs`; resolves when the server closes. */
function slowClient(port: number, head: string, trickle: string, everyMs: number) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<{ afterMs: number; response: string }>((resolve) => {
    let response = '';
    socket.on('data', (chunk) => {
      response += chunk.toString();
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ afterMs: Date.now() - started, response });
    });
  });
  socket.write(head);
  let at = 0;
  timer = setInterval(() => {
    if (at < trickle.length && !socket.destroyed) socket.write(trickle[at++] as string);
  }, everyMs);
  return { closed, socket };
}

const TIGHT: Partial<LinksServerLimits> = {
  headersTimeoutMs: 800,
  requestTimeoutMs: 1200,
  keepAliveTimeoutMs: 500,
  maxConnections: 4,
};

test(
  'a body trickling at one byte a second is cut off at the request timeout',
  withFixture({ limits: TIGHT }, async (t, f) => {
    const path = new URL(linkUrl(f.baseUrl, token(f))).pathname;
    const port = Number(new URL(f.server.origin).port);
    const body = 'action=reboot&pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
    const { closed } = slowClient(
      port,
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
      1000,
    );
    const { afterMs } = await closed;
    t.true(afterMs < 8_000, `closed after ${afterMs} ms`);
    t.deepEqual(f.reboots, []);
  }),
);

test(
  'headers trickling in are cut off at the headers timeout',
  withFixture({ limits: TIGHT }, async (t, f) => {
    const port = Number(new URL(f.server.origin).port);
    const { closed } = slowClient(port, 'GET /r/x HTTP/1.1\r\n', `X-Slow: ${'a'.repeat(100)}`, 200);
    const { afterMs } = await closed;
    t.true(afterMs < 8_000, `closed after ${afterMs} ms`);
  }),
);

test(
  'connections beyond the limit are closed at once; the server answers again once they are gone',
  withFixture({ limits: { ...TIGHT, requestTimeoutMs: 30_000, headersTimeoutMs: 30_000 } }, async (t, f) => {
    const port = Number(new URL(f.server.origin).port);
    const idle = Array.from({ length: 4 }, () => slowClient(port, 'GET /r/x HTTP/1.1\r\n', '', 1000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const extra = slowClient(port, 'GET /r/x HTTP/1.1\r\n', '', 1000);
    const { afterMs, response } = await extra.closed;
    // Long before any timeout (30 s here) could have closed it: the limit did.
    t.true(afterMs < 10_000, `closed after ${afterMs} ms`);
    t.is(response, '');
    for (const client of idle) client.socket.destroy();
    await Promise.all(idle.map((client) => client.closed));
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.is((await fetch(linkUrl(f.baseUrl, token(f)))).status, 200);
  }),
);

test(
  'an oversized body gets a 413 response, not a reset',
  withFixture({}, async (t, f) => {
    const url = linkUrl(f.baseUrl, token(f));
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `action=reboot&pad=${'x'.repeat(1 << 20)}`,
    });
    t.is(response.status, 413);
    t.regex(await response.text(), /too large/);
    t.deepEqual(f.reboots, []);
    // The link was not used up.
    t.is((await post(url, { action: 'reboot' })).status, 202);
  }),
);

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { linkUrl, signLinkToken } from '../../src/notify/links.js';
import { type RunningLinksServer, startLinksServer } from '../../src/notify/links-server.js';
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
  cleanup(): Promise<void>;
}

async function fixture(options: { prefix?: string; failCallback?: boolean } = {}): Promise<Fixture> {
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
        onReboot: async (id) => {
          if (options.failCallback) throw new Error('engine exploded');
          reboots.push(id);
        },
        onReschedule: async (id, deadline) => {
          reschedules.push({ id, deadline: deadline.toISOString() });
        },
      },
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
  'forged, tampered, expired and unknown-migration tokens get 403, change nothing, and are audited',
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
    t.deepEqual(await steps(f), [
      { step: 'link.rejected', reason: 'bad-signature', migrationId: null },
      { step: 'link.rejected', reason: 'bad-signature', migrationId: null },
      { step: 'link.rejected', reason: 'expired', migrationId: f.migration.id },
      { step: 'link.rejected', reason: 'unknown-migration', migrationId: null },
      { step: 'link.rejected', reason: 'malformed', migrationId: null },
    ]);
    // None of them burnt the real token.
    const real = await post(linkUrl(f.baseUrl, token(f)), { action: 'reboot' });
    t.is(real.status, 202);
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
  'a callback failure is a 500, audited; a finished migration is 410 and acts not',
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

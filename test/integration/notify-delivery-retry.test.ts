import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { SMTPServer } from 'smtp-server';
import type { Channel } from '../../src/notify/channel.js';
import { deliverNotice, retryDueDeliveries } from '../../src/notify/delivery.js';
import type { Notice } from '../../src/notify/notice.js';
import { NoticeRenderer } from '../../src/notify/render.js';
import { SmtpChannel } from '../../src/notify/smtp-channel.js';
import { openSqliteStore } from '../../src/store/index.js';
import { fixedClock } from '../helpers/fixed-clock.js';

const renderer = new NoticeRenderer();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startSmtp(port: number) {
  const received: { to: string[]; raw: string }[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ to, raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { received, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'rehome-delivery-'));
  const clock = fixedClock('2026-12-08T09:00:00Z');
  const { now } = clock;
  const store = openSqliteStore(path.join(dir, 'rehome.db'), { now });
  const migration = await store.createMigration({
    vmName: 'web-1',
    vmUuid: '6f1c2a57-0000-4000-8000-000000000001',
    sourceHost: 'kvm1',
    targetHost: 'kvm2',
    deadline: '2026-12-15T22:00:00.000Z',
  });
  const notice: Notice = {
    id: `${migration.id}:scheduled`,
    kind: 'scheduled',
    vm: { name: 'web-1', uuid: migration.vmUuid },
    owner: { address: 'alice@example.net', name: 'Alice', timeZone: 'Europe/Paris' },
    deadline: '2026-12-15T22:00:00.000Z',
    rebootUrl: 'https://ops.example.net/rehome/r/abc.def',
    ipAndMacKept: true,
    reason: 'host maintenance',
    operator: { address: 'ops@example.net' },
    sentAt: '2026-12-08T09:00:00.000Z',
  };
  const port = await freePort();
  const mail = new SmtpChannel({
    name: 'mail',
    host: '127.0.0.1',
    port,
    security: 'none',
    from: 'rehome@example.net',
    timeoutMs: 3000,
  });
  const channels = new Map<string, Channel>([['mail', mail]]);
  const options = { renderer, now, random: () => 0.5, backoff: { attempts: 3, baseDelayMs: 60_000 } };
  return {
    store,
    migration,
    notice,
    port,
    mail,
    channels,
    options,
    clock,
    cleanup: async () => {
      mail.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('SMTP down: the failure is recorded and audited; back up: reconcile sends it, once', async (t) => {
  const s = await setup();
  try {
    const deliveries = [{ channel: s.mail, recipient: { address: 'alice@example.net', name: 'Alice' } }];
    const first = await deliverNotice(s.store, s.migration.id, s.notice, deliveries, s.options);
    t.like(first, { sent: 0, retrying: 1, abandoned: 0, errors: [] });
    const [record] = await s.store.listDeliveries(s.migration.id);
    t.like(record, {
      status: 'pending',
      attempts: 1,
      kind: 'scheduled',
      channel: 'mail',
      recipient: 'alice@example.net',
    });
    t.regex(record?.lastError ?? '', /ECONNREFUSED/);
    // Backoff: 60 s base, equal jitter with random 0.5 → 45 s.
    t.is(record?.nextAttemptAt, '2026-12-08T09:00:45.000Z');
    const failed = (await s.store.listAudit()).filter((e) => e.step === 'notice.delivery-failed');
    t.is(failed.length, 1);
    t.like(failed[0]?.detail, { channel: 'mail', recipient: 'alice@example.net', attempt: 1 });

    const smtp = await startSmtp(s.port);
    try {
      t.like(await retryDueDeliveries(s.store, s.channels, s.options), { sent: 0 }, 'not due yet');
      t.is(smtp.received.length, 0);
      s.clock.ms += 46_000;
      t.like(await retryDueDeliveries(s.store, s.channels, s.options), { sent: 1, errors: [] });
      t.is(smtp.received.length, 1);
      t.deepEqual(smtp.received[0]?.to, ['alice@example.net']);
      t.regex(smtp.received[0]?.raw ?? '', /X-Rehome-Notice: scheduled /);
      t.regex(smtp.received[0]?.raw ?? '', /web-1/);
      t.like((await s.store.listDeliveries(s.migration.id))[0], {
        status: 'sent',
        attempts: 2,
        lastError: null,
      });
      t.true(
        (await s.store.listAudit()).some((e) => e.step === 'notice.delivered' && e.detail.attempt === 2),
      );
      s.clock.ms += 3_600_000;
      t.like(await retryDueDeliveries(s.store, s.channels, s.options), { sent: 0 });
      t.like(await deliverNotice(s.store, s.migration.id, s.notice, deliveries, s.options), {
        sent: 0,
        skipped: 1,
      });
      t.is(smtp.received.length, 1);
    } finally {
      await smtp.stop();
    }
  } finally {
    await s.cleanup();
  }
});

test('attempts used up, or a channel gone: abandoned for good, audited, never thrown', async (t) => {
  const s = await setup();
  try {
    const deliveries = [{ channel: s.mail, recipient: { address: 'alice@example.net' } }];
    await deliverNotice(s.store, s.migration.id, s.notice, deliveries, s.options);
    s.clock.ms += 10 * 60_000;
    t.like(await retryDueDeliveries(s.store, s.channels, s.options), { retrying: 1 });
    s.clock.ms += 10 * 60_000;
    t.like(await retryDueDeliveries(s.store, s.channels, s.options), { abandoned: 1 });
    t.like((await s.store.listDeliveries(s.migration.id))[0], { status: 'failed', attempts: 3 });
    t.true((await s.store.listAudit()).some((e) => e.step === 'notice.delivery-abandoned'));

    const other = { ...s.notice, id: `${s.migration.id}:reminder`, kind: 'reminder' as const };
    await deliverNotice(s.store, s.migration.id, other, deliveries, s.options);
    s.clock.ms += 10 * 60_000;
    t.like(await retryDueDeliveries(s.store, new Map(), s.options), { abandoned: 1, errors: [] });
    const last = (await s.store.listDeliveries(s.migration.id)).find((d) => d.kind === 'reminder');
    t.like(last, { status: 'failed' });
    t.regex(last?.lastError ?? '', /no longer configured/);
  } finally {
    await s.cleanup();
  }
});

test('a broken store is reported, not thrown', async (t) => {
  const s = await setup();
  await s.cleanup();
  const deliveries = [{ channel: s.mail, recipient: { address: 'alice@example.net' } }];
  const report = await deliverNotice(s.store, s.migration.id, s.notice, deliveries, s.options);
  t.is(report.errors.length, 1);
  const retried = await retryDueDeliveries(s.store, s.channels, s.options);
  t.is(retried.errors.length, 1);
});

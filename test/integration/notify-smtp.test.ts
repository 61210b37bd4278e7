import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Notice } from '../../src/notify/notice.js';
import { NoticeRenderer } from '../../src/notify/render.js';
import { SmtpChannel } from '../../src/notify/smtp-channel.js';
import { readMail } from '../helpers/read-mail.js';

const HOSTILE_VM = `<script>alert(1)</script> it's "x" $(rm -rf /)`;
const HOSTILE_OWNER = `Eve <>&" O'Hara`;

const notice: Notice = {
  id: 'mig-7:scheduled:1',
  kind: 'scheduled',
  vm: { name: HOSTILE_VM, uuid: '0b0e5b8e-7a51-4c7e-9d5e-2f1f3c0d9a11' },
  owner: { address: 'eve@example.test', name: HOSTILE_OWNER, timeZone: 'Europe/Paris' },
  deadline: '2026-12-15T22:00:00Z',
  rebootUrl: 'https://rehome.example/r/tok?a=1&b=2',
  ipAndMacKept: true,
  reason: 'host maintenance',
  operator: { address: 'ops@example.test', name: 'Ops' },
  sentAt: '2026-12-08T22:00:00Z',
};
const rendered = new NoticeRenderer().render(notice);

interface Received {
  /** A copy: smtp-server resets the live session's envelope after each message. */
  session: Pick<SMTPServerSession, 'envelope' | 'secure'>;
  raw: string;
}

async function startSmtp(
  options: SMTPServerOptions,
): Promise<{ port: number; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    logger: false,
    ...options,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const snapshot = { envelope: structuredClone(session.envelope), secure: session.secure };
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ session: snapshot, raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function selfSignedCert(t: import('ava').ExecutionContext): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rehome-smtp-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=rehome-test',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
}

test('STARTTLS + AUTH: the server gets the right envelope, subject and both bodies', async (t) => {
  const tls = await selfSignedCert(t);
  const logins: string[] = [];
  const smtp = await startSmtp({
    ...tls,
    authOptional: false,
    onAuth(auth, _session, callback) {
      logins.push(`${auth.username}:${auth.password}`);
      if (auth.username === 'rehome' && auth.password === 'pw') return callback(null, { user: 'rehome' });
      return callback(new Error('bad credentials'));
    },
  });
  t.teardown(() => smtp.stop());
  const channel = new SmtpChannel({
    name: 'mail',
    host: '127.0.0.1',
    port: smtp.port,
    security: 'starttls',
    auth: { user: 'rehome', pass: 'pw' },
    from: { name: 'rehome', address: 'rehome@example.test' },
    tls: { ca: tls.cert },
    timeoutMs: 5_000,
  });
  t.teardown(() => channel.close());

  const result = await channel.send(rendered, { address: 'eve@example.test', name: HOSTILE_OWNER });

  t.true(result.ok, result.error);
  t.is(result.channel, 'mail');
  t.is(result.channelType, 'smtp');
  t.is(result.noticeId, 'mig-7:scheduled:1');
  t.regex(result.detail ?? '', /^250/);
  t.deepEqual(logins, ['rehome:pw']);
  t.is(smtp.received.length, 1);
  const [mail] = smtp.received;
  if (!mail) return;
  t.true(mail.session.secure, 'upgraded with STARTTLS');
  t.deepEqual(
    mail.session.envelope.rcptTo.map((r) => r.address),
    ['eve@example.test'],
  );
  const mailFrom = mail.session.envelope.mailFrom;
  t.is(mailFrom === false ? undefined : mailFrom.address, 'rehome@example.test');
  const message = await readMail(mail.raw);
  t.is(message.subject, rendered.subject);
  t.true(message.subject.includes(HOSTILE_VM));
  t.true(message.to.includes('<eve@example.test>'));
  t.is(message.text, rendered.text);
  t.is(message.html, rendered.html);
  t.true(message.text.includes('https://rehome.example/r/tok?a=1&b=2'));
  t.true(message.html.includes('&lt;script&gt;'));
  t.true(mail.raw.includes('X-Rehome-Notice: scheduled mig-7:scheduled:1'));
});

test('security "starttls" refuses to send in clear to a server without STARTTLS', async (t) => {
  const smtp = await startSmtp({ authOptional: true, disabledCommands: ['STARTTLS'] });
  t.teardown(() => smtp.stop());
  const channel = new SmtpChannel({
    host: '127.0.0.1',
    port: smtp.port,
    from: 'rehome@example.test',
    timeoutMs: 5_000,
  });
  const result = await channel.send(rendered, { address: 'eve@example.test' });
  t.false(result.ok);
  t.regex(result.error ?? '', /STARTTLS|TLS/i);
  t.is(smtp.received.length, 0);
});

test('security "none" sends to a loopback relay without TLS', async (t) => {
  const smtp = await startSmtp({ authOptional: true, disabledCommands: ['STARTTLS'] });
  t.teardown(() => smtp.stop());
  const channel = new SmtpChannel({
    host: '127.0.0.1',
    port: smtp.port,
    security: 'none',
    from: 'rehome@example.test',
    timeoutMs: 5_000,
  });
  const result = await channel.send(rendered, { address: 'eve@example.test' });
  t.true(result.ok, result.error);
  t.false(smtp.received[0]?.session.secure);
  t.is((await readMail(smtp.received[0]?.raw ?? '')).text, rendered.text);
});

test('a recipient the server refuses is a failed result', async (t) => {
  const smtp = await startSmtp({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(_address, _session, callback) {
      const error = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
      callback(error);
    },
  });
  t.teardown(() => smtp.stop());
  const channel = new SmtpChannel({
    host: '127.0.0.1',
    port: smtp.port,
    security: 'none',
    from: 'r@example.test',
  });
  const result = await channel.send(rendered, { address: 'gone@example.test' });
  t.false(result.ok);
  t.regex(result.error ?? '', /550|mailbox unavailable/);
});

test('SMTP server down: a failed DeliveryResult, no throw', async (t) => {
  const port = await freePort();
  const channel = new SmtpChannel({
    host: '127.0.0.1',
    port,
    security: 'none',
    from: 'rehome@example.test',
    timeoutMs: 5_000,
  });
  const result = await channel.send(rendered, { address: 'eve@example.test' });
  t.false(result.ok);
  t.is(result.attempts, 1);
  t.regex(result.error ?? '', /ECONNREFUSED/);
  t.is(result.recipient, 'eve@example.test');
});

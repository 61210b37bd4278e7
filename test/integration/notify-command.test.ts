import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { DeliveryResult } from '../../src/notify/channel.js';
import { CommandChannel } from '../../src/notify/command-channel.js';
import { dispatchNotice } from '../../src/notify/dispatch.js';
import type { Notice } from '../../src/notify/notice.js';
import { NoticeRenderer } from '../../src/notify/render.js';
import { SmtpChannel } from '../../src/notify/smtp-channel.js';
import { WebhookChannel } from '../../src/notify/webhook-channel.js';
import { verifyWebhookSignature } from '../../src/notify/webhook-signature.js';

const notice: Notice = {
  id: 'mig-3:failed:1',
  kind: 'failed',
  vm: {
    name: `<script>alert(1)</script> it's "x" $(rm -rf /)`,
    uuid: 'c0c0c0c0-0000-4000-8000-000000000003',
  },
  owner: { address: 'eve@example.test', name: `Eve <>&" O'Hara` },
  deadline: '2026-12-15T22:00:00Z',
  ipAndMacKept: true,
  reason: 'host maintenance',
  error: 'NBD export refused the connection',
  operator: { address: 'ops@example.test' },
  sentAt: '2026-12-15T22:01:00Z',
};
const renderer = new NoticeRenderer();
const rendered = renderer.render(notice);

async function scratch(t: import('ava').ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rehome-cmd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function script(dir: string, name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

test('the command reads the JSON payload on stdin and sees the notice in its environment', async (t) => {
  const dir = await scratch(t);
  const out = path.join(dir, 'received.json');
  const hook = await script(
    dir,
    'notify.sh',
    'cat > "$OUT"\nprintf "%s|%s|%s|%s" "$REHOME_NOTICE_ID" "$REHOME_NOTICE_KIND" "$REHOME_RECIPIENT" "$1" > "$OUT.env"',
  );
  const channel = new CommandChannel({
    name: 'pager',
    argv: [hook, `arg with 'quotes' $(x)`],
    env: { OUT: out },
  });
  const result = await channel.send(rendered, { address: 'eve@example.test' });
  t.true(result.ok, result.error);
  t.is(result.channelType, 'command');
  t.is(result.channel, 'pager');
  t.deepEqual(JSON.parse(await readFile(out, 'utf8')), rendered.payload);
  t.is(await readFile(`${out}.env`, 'utf8'), `mig-3:failed:1|failed|eve@example.test|arg with 'quotes' $(x)`);
});

test('a non-zero exit is a failure carrying stderr', async (t) => {
  const dir = await scratch(t);
  const hook = await script(
    dir,
    'fail.sh',
    'cat > /dev/null\necho "mailbox full for $REHOME_RECIPIENT" >&2\nexit 3',
  );
  const result = await new CommandChannel({ argv: [hook] }).send(rendered, { address: 'eve@example.test' });
  t.false(result.ok);
  t.is(result.error, 'exit 3: mailbox full for eve@example.test');
});

test('a missing program is a failure, not an exception', async (t) => {
  const result = await new CommandChannel({ argv: ['/nonexistent/rehome-notify'] }).send(rendered, {
    address: 'eve@example.test',
  });
  t.false(result.ok);
  t.regex(result.error ?? '', /ENOENT|not found/i);
});

test('a command that hangs is killed at its timeout', async (t) => {
  const dir = await scratch(t);
  const hook = await script(dir, 'hang.sh', 'exec sleep 30');
  const started = Date.now();
  const result = await new CommandChannel({ argv: [hook], timeoutMs: 300 }).send(rendered, { address: 'x' });
  t.false(result.ok);
  t.regex(result.error ?? '', /timed out after 300 ms/);
  t.true(Date.now() - started < 5_000);
});

test('dispatch: SMTP down, webhook and command up: per-channel results, audit callback, no throw', async (t) => {
  const dir = await scratch(t);
  const out = path.join(dir, 'cmd.json');
  const hook = await script(dir, 'ok.sh', 'cat > "$OUT"');

  const bodies: string[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const ok = verifyWebhookSignature(
        'k',
        req.headers['x-rehome-timestamp'] as string,
        body,
        req.headers['x-rehome-signature'] as string,
      );
      bodies.push(body.toString());
      res.statusCode = ok ? 200 : 401;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const webPort = (receiver.address() as { port: number }).port;

  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const deadPort = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const audit: DeliveryResult[] = [];
  const outcome = await dispatchNotice(
    notice,
    [
      {
        channel: new SmtpChannel({
          name: 'mail',
          host: '127.0.0.1',
          port: deadPort,
          security: 'none',
          from: 'r@example.test',
        }),
        recipient: { address: 'eve@example.test', name: notice.owner.name },
      },
      {
        channel: new WebhookChannel({ name: 'hook', url: `http://127.0.0.1:${webPort}/`, secret: 'k' }),
        recipient: { address: 'eve@example.test' },
      },
      {
        channel: new CommandChannel({ name: 'cmd', argv: [hook], env: { OUT: out } }),
        recipient: { address: 'eve@example.test' },
      },
    ],
    { renderer, onDelivery: (r) => void audit.push(r) },
  );
  t.deepEqual(
    outcome.results.map((r) => [r.channel, r.ok]),
    [
      ['mail', false],
      ['hook', true],
      ['cmd', true],
    ],
  );
  t.regex(outcome.results[0]?.error ?? '', /ECONNREFUSED/);
  t.deepEqual(audit.map((r) => r.channel).sort(), ['cmd', 'hook', 'mail']);
  t.is(bodies.length, 1);
  t.deepEqual(JSON.parse(bodies[0] ?? ''), outcome.rendered?.payload);
  t.deepEqual(JSON.parse(await readFile(out, 'utf8')), outcome.rendered?.payload);
});

test.serial(
  'the command gets a minimal environment: not SSH_AUTH_SOCK nor anything else of rehome',
  async (t) => {
    const dir = await scratch(t);
    const out = path.join(dir, 'env.txt');
    const hook = await script(dir, 'env.sh', 'env > "$OUT"');
    const saved = { sock: process.env.SSH_AUTH_SOCK, secret: process.env.REHOME_TEST_SECRET };
    process.env.SSH_AUTH_SOCK = '/tmp/ssh-agent.sock';
    process.env.REHOME_TEST_SECRET = 'hunter2';
    t.teardown(() => {
      for (const [name, value] of [
        ['SSH_AUTH_SOCK', saved.sock],
        ['REHOME_TEST_SECRET', saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    const channel = new CommandChannel({ argv: [hook], env: { OUT: out } });
    const result = await channel.send(rendered, { address: 'eve@example.test' });
    t.true(result.ok, result.error);
    const names = (await readFile(out, 'utf8'))
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => line.slice(0, line.indexOf('=')));
    const allowed = new Set(['PATH', 'LANG', 'LC_ALL', 'TZ', 'OUT', 'PWD', 'SHLVL', '_']);
    t.deepEqual(
      names.filter(
        (name) => !allowed.has(name) && !name.startsWith('REHOME_NOTICE_') && name !== 'REHOME_RECIPIENT',
      ),
      [],
    );
    t.true(names.includes('REHOME_NOTICE_ID'));
  },
);

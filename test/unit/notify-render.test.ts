import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { NOTICE_KINDS, type Notice, type NoticeKind } from '../../src/notify/notice.js';
import { NoticeRenderer } from '../../src/notify/render.js';
import { resolveTemplate } from '../../src/notify/template-dirs.js';

const HOSTILE_VM = `<script>alert(1)</script> it's "x" $(rm -rf /)`;
const HOSTILE_OWNER = `Eve <>&" O'Hara`;
const HOSTILE_VM_HTML = '&lt;script&gt;alert(1)&lt;/script&gt; it&#39;s &quot;x&quot; $(rm -rf /)';
const HOSTILE_OWNER_HTML = 'Eve &lt;&gt;&amp;&quot; O&#39;Hara';
const SOURCE = 'hv-old-01.dc1';
const TARGET = 'hv-new-07.dc1';

function notice(kind: NoticeKind, overrides: Partial<Notice> = {}): Notice {
  return {
    id: `mig-42:${kind}:1`,
    kind,
    vm: { name: HOSTILE_VM, uuid: '6f1c0e1e-1111-4222-8333-444455556666' },
    owner: { address: 'eve+vm@example.test', name: HOSTILE_OWNER, timeZone: 'Europe/Paris' },
    deadline: '2026-12-15T22:00:00Z',
    rebootUrl: 'https://rehome.example/r/tok?v=1&sig=abc',
    rescheduleUrl: 'https://rehome.example/s/tok?v=1&sig=abc',
    sourceHost: SOURCE,
    targetHost: TARGET,
    ipAndMacKept: true,
    reason: 'host maintenance',
    error: kind === 'failed' || kind === 'rolled-back' ? `block copy to ${TARGET} failed: <EIO>` : undefined,
    operator: { address: 'ops@example.test', name: 'Ops & Infra' },
    sentAt: '2026-12-14T22:00:00Z',
    ...overrides,
  };
}

const renderer = new NoticeRenderer();

for (const kind of NOTICE_KINDS) {
  test(`${kind}: HTML escapes hostile names, text and subject keep them verbatim`, (t) => {
    const out = renderer.render(notice(kind));
    t.is(out.kind, kind);
    t.true(out.subject.includes(HOSTILE_VM), out.subject);
    t.false(out.subject.includes('&lt;'));
    t.true(out.text.includes(HOSTILE_VM));
    t.true(out.text.includes(`Hello ${HOSTILE_OWNER},`));
    t.false(/&lt;|&gt;|&amp;|&quot;|&#39;/.test(out.text), 'text is never HTML-escaped');
    t.true(out.html.includes(HOSTILE_VM_HTML));
    t.true(out.html.includes(`Hello ${HOSTILE_OWNER_HTML},`));
    t.false(out.html.includes('<script>'));
    t.false(out.html.includes(HOSTILE_VM));
    t.true(out.html.includes('Ops &amp; Infra'));
  });

  test(`${kind}: the JSON payload round-trips the exact names`, (t) => {
    const out = renderer.render(notice(kind));
    const parsed = JSON.parse(JSON.stringify(out.payload));
    t.deepEqual(parsed, out.payload, 'no member is lost or changed by JSON');
    t.is(parsed.schema, 'rehome.notice/v1');
    t.is(parsed.kind, kind);
    t.is(parsed.id, `mig-42:${kind}:1`);
    t.is(parsed.vm.name, HOSTILE_VM);
    t.is(parsed.owner.name, HOSTILE_OWNER);
    t.is(parsed.deadline, '2026-12-15T22:00:00.000Z');
    t.is(parsed.message.subject, out.subject);
    t.is(parsed.message.text, out.text);
    t.is(parsed.ipAndMacKept, true);
  });

  test(`${kind}: host names appear only when enabled`, (t) => {
    const hidden = renderer.render(notice(kind));
    for (const form of [hidden.subject, hidden.text, hidden.html, JSON.stringify(hidden.payload)]) {
      t.false(form.includes(SOURCE));
      t.false(form.includes(TARGET));
    }
    const shown = new NoticeRenderer({ showHostNames: true }).render(notice(kind));
    for (const form of [shown.text, shown.html, JSON.stringify(shown.payload)]) {
      t.true(form.includes(SOURCE));
      t.true(form.includes(TARGET));
    }
  });
}

test('subject stays one line even when the VM name carries CR/LF', (t) => {
  const out = renderer.render(
    notice('scheduled', { vm: { name: 'web\r\nBcc: victim@example.test', uuid: 'u' } }),
  );
  t.false(/[\r\n]/.test(out.subject));
  t.true(out.subject.includes('web Bcc: victim@example.test'));
});

test('scheduled says what, why, when (UTC and owner zone), one reboot, IP and MAC kept, and the reboot link', (t) => {
  const out = renderer.render(notice('scheduled'));
  for (const body of [out.text, out.html]) {
    t.true(body.includes('host maintenance'));
    t.true(body.includes('Tuesday 15 December 2026, 22:00 UTC'));
    t.true(body.includes('Tuesday 15 December 2026, 23:00 CET (UTC+01:00, Europe/Paris)'));
    t.true(body.includes('one reboot'));
    t.true(body.includes('IP and MAC addresses'));
    t.true(body.includes('next reboot'));
  }
  t.true(out.text.includes('  https://rehome.example/r/tok?v=1&sig=abc\n'));
  t.true(out.html.includes('href="https://rehome.example/r/tok?v=1&amp;sig=abc"'));
  t.true(out.html.includes('href="https://rehome.example/s/tok?v=1&amp;sig=abc"'));
  t.is(out.payload.links.reboot, 'https://rehome.example/r/tok?v=1&sig=abc');
});

test('the owner zone offset follows DST (Paris in July is UTC+02:00, CEST)', (t) => {
  const out = renderer.render(notice('scheduled', { deadline: '2026-07-15T22:00:00Z' }));
  t.true(out.text.includes('Wednesday 15 July 2026, 22:00 UTC'));
  t.true(out.text.includes('Thursday 16 July 2026, 00:00 CEST (UTC+02:00, Europe/Paris)'));
});

test('an unknown time zone is dropped: UTC only', (t) => {
  const out = renderer.render(
    notice('scheduled', { owner: { address: 'a@example.test', timeZone: 'Mars/Olympus_Mons' } }),
  );
  t.true(out.text.includes('22:00 UTC'));
  t.false(out.text.includes('Mars'));
  t.is(out.payload.owner.timeZone, undefined);
  t.true(out.text.includes('Hello a@example.test,'), 'falls back to the address when no name');
});

test("a zone keeps the owner's spelling, not ICU's legacy alias; case is fixed", (t) => {
  const out = renderer.render(
    notice('scheduled', { owner: { address: 'a@example.test', timeZone: 'Asia/Kolkata' } }),
  );
  t.true(out.text.includes('Wednesday 16 December 2026, 03:30 (UTC+05:30, Asia/Kolkata)'), out.text);
  const lower = renderer.render(
    notice('scheduled', { owner: { address: 'a@example.test', timeZone: 'europe/paris' } }),
  );
  t.true(lower.text.includes('23:00 CET (UTC+01:00, Europe/Paris)'), lower.text);
});

test('each kind says its own thing', (t) => {
  const says: Record<NoticeKind, RegExp> = {
    scheduled: /will move to new hardware/,
    reminder: /A reminder: .* in 24 hours at the latest/,
    started: /is moving to new hardware now/,
    completed: /has moved to new hardware and is running there/,
    failed: /to new hardware failed\.[\s\S]*What went wrong: block copy to \[host\] failed: <EIO>/,
    'rolled-back': /was put back: it runs on its old hardware/,
    cancelled: /has been cancelled\. It stays where it is/,
  };
  for (const kind of NOTICE_KINDS) t.regex(renderer.render(notice(kind)).text, says[kind], kind);
});

test('reminder counts the time left from sentAt', (t) => {
  const out = renderer.render(notice('reminder', { sentAt: '2026-12-12T22:00:00Z' }));
  t.true(out.subject.includes('moves in 3 days'), out.subject);
  const hour = renderer.render(notice('reminder', { sentAt: '2026-12-15T21:00:00Z' }));
  t.true(hour.subject.includes('moves in 1 hour,'), hour.subject);
});

test('errors naming hosts are redacted unless host names are shown', (t) => {
  const hidden = renderer.render(notice('failed'));
  t.true(hidden.html.includes('block copy to [host] failed: &lt;EIO&gt;'));
  t.is(hidden.payload.error, 'block copy to [host] failed: <EIO>');
  const shown = new NoticeRenderer({ showHostNames: true }).render(notice('failed'));
  t.is(shown.payload.error, `block copy to ${TARGET} failed: <EIO>`);
});

test('an operator template in the override dir wins; the rest stay built in', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rehome-tpl-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    path.join(dir, 'scheduled.subject.eta'),
    '[ACME] <%= it.vm.name %> moves <%= it.deadline.iso %>',
  );
  await writeFile(path.join(dir, 'layout.html.eta'), '<main class="acme"><%~ it.body %></main>');
  const custom = new NoticeRenderer({ overrideDir: dir });
  const out = custom.render(notice('scheduled'));
  t.is(out.subject, `[ACME] ${HOSTILE_VM} moves 2026-12-15T22:00:00.000Z`);
  t.true(out.html.startsWith('<main class="acme">'), 'the overridden layout wraps the built-in body');
  t.true(out.html.includes(HOSTILE_VM_HTML), 'still escaped');
  t.true(out.text.includes('will move to new hardware'), 'text template still built in');
  t.is(renderer.render(notice('scheduled')).subject.startsWith('[ACME]'), false);
});

test('an override edited at run time applies without a new renderer', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rehome-tpl-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const custom = new NoticeRenderer({ overrideDir: dir });
  t.false(custom.render(notice('completed')).subject.startsWith('v2'));
  await writeFile(path.join(dir, 'completed.subject.eta'), 'v2 <%= it.vm.uuid %>');
  t.is(custom.render(notice('completed')).subject, 'v2 6f1c0e1e-1111-4222-8333-444455556666');
});

test('a missing override dir falls back to the built-in templates', (t) => {
  const out = new NoticeRenderer({ overrideDir: '/nonexistent/rehome/templates' }).render(
    notice('cancelled'),
  );
  t.true(out.subject.startsWith('Cancelled:'));
});

test('template names cannot leave their directory', (t) => {
  t.throws(() => resolveTemplate('../etc/passwd', ['/tmp']), { message: /leaves the templates directory/ });
  t.throws(() => resolveTemplate('partials/../../x', ['/tmp']), {
    message: /leaves the templates directory/,
  });
});

test('an invalid deadline is refused loudly', (t) => {
  t.throws(() => renderer.render(notice('scheduled', { deadline: 'next tuesday' })), { message: /deadline/ });
});

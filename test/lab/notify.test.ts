import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { signLinkToken } from '../../src/notify/index.js';
import {
  assertGuestOn,
  type Background,
  phaseEnteredAt,
  phaseOf,
  rehome,
  rehomeJson,
  startRehome,
  waitForPhase,
} from './helpers-migration.js';
import { type LabProcess, labHttp, readJsonLines, startReceiver, waitForRecord } from './helpers-notify.js';
import { agentQuery, whereRuns } from './lab.js';
import { useMigrationLab } from './migration-lab.js';
import { labPaths } from './paths.js';

const SMTP_PORT = 2525;
const WEBHOOK_PORT = 2526;
const SERVE_PORT = 2527;
const WEBHOOK_SECRET = 'lab-webhook-secret-0123456789';
const LINK_SECRET = 'lab-link-secret-0123456789abcdefghijklmnop';
const BASE_URL = `http://127.0.0.1:${SERVE_PORT}/rehome/`;

interface Mail {
  envelopeTo: string[];
  subject: string;
  text: string;
  html: string;
}
interface Hook {
  verified: boolean;
  verifiedWithWrongSecret: boolean;
  verifiedTampered: boolean;
  payload: { kind: string; vm: { name: string }; owner: { address: string }; deadline: string };
}
interface Status {
  migrations: {
    id: string;
    uuid: string;
    phase: string;
    deadline: string | null;
    history: { step: string; detail: Record<string, unknown> }[];
  }[];
}

const mailsFile = () => path.join(labPaths().root, 'notify-mails.jsonl');
const hooksFile = () => path.join(labPaths().root, 'notify-hooks.jsonl');
let smtp: LabProcess | undefined;
let webhook: LabProcess | undefined;
let serve: Background | undefined;

const lab = useMigrationLab(test, {
  config: `
notify:
  operator: { address: ops@example.net, name: Lab Ops }
  reminders: [15s]
  smtp: { host: 127.0.0.1, port: ${SMTP_PORT}, security: none, from: "rehome <rehome@lab.example>", timeoutMs: 5000 }
  webhooks:
    - { name: hook, url: "http://127.0.0.1:${WEBHOOK_PORT}/hook", secret: ${WEBHOOK_SECRET} }
  retry: { baseDelayMs: 1000, maxDelayMs: 2000 }
owners:
  - { vm: nt-link, address: bob@example.com, name: Bob, timeZone: America/New_York }
links:
  baseUrl: ${BASE_URL}
  secret: ${LINK_SECRET}
`,
});

test.before('receivers, rehome serve', async () => {
  // The lab dir outlives a run: start with empty records.
  await Promise.all([writeFile(mailsFile(), ''), writeFile(hooksFile(), '')]);
  smtp = await startReceiver('smtp', SMTP_PORT, mailsFile());
  webhook = await startReceiver('webhook', WEBHOOK_PORT, hooksFile(), WEBHOOK_SECRET);
  serve = await startRehome(['serve', '--listen', `127.0.0.1:${SERVE_PORT}`]);
  await serve.waitForLog(/Serving links on/);
});

test.after.always('receivers and rehome serve stopped', async () => {
  await serve?.stop();
  await smtp?.stop();
  await webhook?.stop();
});

const mailFor = (vm: string, to: string, subject: RegExp) => (mail: Mail) =>
  mail.envelopeTo.includes(to) && mail.subject.includes(`"${vm}"`) && subject.test(mail.subject);

async function statusOf(vm: string) {
  const status = await rehomeJson<Status>(['status', vm]);
  const last = status.migrations.at(-1);
  if (!last) throw new Error(`no migration of ${vm}`);
  return last;
}

test.serial(
  'deadline in 30 s, no reboot: moved at the deadline; scheduled, reminder and completed mails; signed webhook',
  async (t) => {
    const guest = await lab.bootedGuest('nt-dl');
    await rehome(['owner', 'set', guest.name, 'alice@example.com', '--time-zone', 'Europe/Paris']);
    const before = await agentQuery(guest.ip);
    const armed = await rehomeJson<{ phase: string; deadline: string }>([
      'migrate',
      guest.name,
      '--to',
      'lab-b',
      '--deadline',
      '+30s',
    ]);
    t.is(armed.phase, 'armed');
    const watch = await lab.startRehome(['watch', '--reconcile-interval', '5']);
    await watch.waitForLog(/listening to lab-a/);
    const deadline = Date.parse(armed.deadline);
    t.is(
      await waitForPhase(guest.name, ['done', 'rolled-back', 'failed'], 150_000),
      'done',
      await watch.log(),
    );
    const doneAt = Date.now();
    t.true(doneAt >= deadline, 'not moved before its deadline');
    t.true(doneAt - deadline < 60_000, `moved ${doneAt - deadline} ms after the deadline`);
    t.log(`deadline → done seen by the test: ${doneAt - deadline} ms`);
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);

    const to = 'alice@example.com';
    const scheduled = await waitForRecord<Mail>(
      mailsFile(),
      'scheduled mail',
      mailFor(guest.name, to, /will move/),
    );
    const reminder = await waitForRecord<Mail>(
      mailsFile(),
      'reminder mail',
      mailFor(guest.name, to, /^Reminder/),
    );
    const completed = await waitForRecord<Mail>(
      mailsFile(),
      'completed mail',
      mailFor(guest.name, to, /moved|done|complete/i),
    );
    const utc = new Date(deadline).toISOString().slice(11, 16);
    t.true(scheduled.text.includes(`${utc} UTC`), scheduled.text);
    t.true(scheduled.text.includes('Europe/Paris'), 'the deadline in the owner’s zone too');
    t.regex(scheduled.text, new RegExp(`${BASE_URL.replace(/[./]/g, '\\$&')}r/\\S+`), 'the reboot-now link');
    t.true(reminder.subject.includes(utc), reminder.subject);
    t.true(completed.text.includes(guest.name));
    for (const mail of [scheduled, reminder, completed]) {
      t.false(/lab-a|lab-b/.test(mail.text + mail.html + mail.subject), 'no host names in owners’ mail');
    }
    const all = (await readJsonLines<Mail>(mailsFile())).filter((m) => m.subject.includes(`"${guest.name}"`));
    t.is(all.filter((m) => /^Reminder/.test(m.subject)).length, 1, 'one reminder, sent once');
    t.true(
      all.every((m) => m.envelopeTo.join() === to),
      all.map((m) => m.envelopeTo.join()).join(' '),
    );

    const hook = await waitForRecord<Hook>(
      hooksFile(),
      'scheduled webhook',
      (h) => h.payload.vm.name === guest.name && h.payload.kind === 'scheduled',
    );
    t.true(hook.verified, 'the receiver verified the signature');
    t.false(hook.verifiedWithWrongSecret);
    t.false(hook.verifiedTampered);
    t.is(hook.payload.owner.address, to);
    t.is(Date.parse(hook.payload.deadline), deadline);
  },
);

test.serial(
  'self-service links: forged, expired and reused → 403 and nothing happens; reschedule; reboot now → moved',
  async (t) => {
    const guest = await lab.bootedGuest('nt-link');
    const before = await agentQuery(guest.ip);
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b', '--deadline', '+2h']);
    const migration = await statusOf(guest.name);
    const scheduled = await waitForRecord<Mail>(
      mailsFile(),
      'scheduled mail',
      mailFor(guest.name, 'bob@example.com', /will move/),
    );
    t.true(scheduled.text.includes('America/New_York'));
    const [rebootUrl, rescheduleUrl] = [
      ...scheduled.text.matchAll(/http:\/\/127\.0\.0\.1:\d+\/rehome\/r\/[A-Za-z0-9_.-]+/g),
    ].map((m) => m[0]);
    t.truthy(rebootUrl);
    t.truthy(rescheduleUrl);

    const stillArmed = async (why: string) => {
      t.is(await phaseOf(guest.name), 'armed', why);
      t.deepEqual(await whereRuns(guest.name), ['lab-a'], why);
    };
    const signed = (secret: string, expiresAt: Date) =>
      `${BASE_URL}r/${signLinkToken(secret, { migrationId: migration.id, vmUuid: migration.uuid, action: 'reboot', expiresAt })}`;
    const forged = await labHttp(
      'POST',
      signed('not-the-secret-0123456789abcdefghij', new Date(Date.now() + 3_600_000)),
      { action: 'reboot' },
    );
    t.is(forged.status, 403);
    const expired = await labHttp('POST', signed(LINK_SECRET, new Date(Date.now() - 60_000)), {
      action: 'reboot',
    });
    t.is(expired.status, 403);
    await stillArmed('forged and expired links change nothing');

    const tooLate = await rehome(['reschedule', guest.name, '--deadline', '+40d'], { reject: false });
    t.is(tooLate.exitCode, 2, 'past the operator’s limit (30 days): a usage error');
    const byCli = await rehomeJson<{ deadline: string }>(['reschedule', guest.name, '--deadline', '+5h']);
    t.is((await statusOf(guest.name)).deadline, byCli.deadline);
    const newDeadline = new Date(Date.now() + 3 * 3_600_000);
    const form = { action: 'reschedule', zone: 'UTC', deadline: newDeadline.toISOString().slice(0, 16) };
    t.is((await labHttp('POST', rescheduleUrl as string, form)).status, 202);
    const moved = await statusOf(guest.name);
    t.is(moved.deadline?.slice(0, 16), newDeadline.toISOString().slice(0, 16));
    const reused = await labHttp('POST', rescheduleUrl as string, {
      ...form,
      deadline: new Date(Date.now() + 4 * 3_600_000).toISOString().slice(0, 16),
    });
    t.is(reused.status, 403);
    t.is((await statusOf(guest.name)).deadline, moved.deadline, 'the reused link changed nothing');
    await stillArmed('a reused link changes nothing');
    const rejected = (await statusOf(guest.name)).history
      .filter((h) => h.step === 'link.rejected')
      .map((h) => h.detail.reason);
    t.deepEqual(
      rejected,
      ['reused'],
      'a refused token that verifies is audited on its migration; forged and expired ones are only counted per client and minute',
    );
    await waitForRecord<Mail>(
      mailsFile(),
      'rescheduled mail',
      mailFor(guest.name, 'bob@example.com', /^New time/),
    );

    t.is((await labHttp('GET', rebootUrl as string)).status, 200, 'opening the link only shows the page');
    await stillArmed('a GET does nothing');
    const accepted = await labHttp('POST', rebootUrl as string, { action: 'reboot' });
    const answeredBy = Date.now();
    t.is(accepted.status, 202, accepted.body);
    t.is(
      await waitForPhase(guest.name, ['done', 'rolled-back', 'failed'], 150_000),
      'done',
      serve ? await serve.log() : '',
    );
    const doneAt = (await phaseEnteredAt(guest.name, 'done')) ?? Number.NaN;
    t.true(answeredBy < doneAt, 'answered before the cutover finished');
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);
    await waitForRecord<Mail>(
      mailsFile(),
      'completed mail',
      mailFor(guest.name, 'bob@example.com', /moved|done|complete/i),
    );
  },
);

test.serial(
  'SMTP down: the migration still completes; reconcile delivers once the server is back',
  async (t) => {
    await smtp?.stop();
    smtp = undefined;
    const guest = await lab.bootedGuest('nt-down');
    const before = await agentQuery(guest.ip);
    await rehomeJson(['migrate', guest.name, '--to', 'lab-b']);
    const result = await rehomeJson<{ outcome: string }>(['reboot', guest.name]);
    t.is(result.outcome, 'done');
    await assertGuestOn(t, guest, 'lab-b', before.boot + 1);
    const failed = (await statusOf(guest.name)).history.filter(
      (h) => h.step === 'notice.delivery-failed' && h.detail.channel === 'mail',
    );
    t.true(
      failed.length >= 2,
      `failed mail deliveries audited: ${failed.map((f) => f.detail.kind).join(', ')}`,
    );
    t.true(
      failed.every((f) => f.detail.recipient === 'ops@example.net'),
      'no owner: the operator is told',
    );
    t.is((await readJsonLines<Mail>(mailsFile())).filter((m) => m.subject.includes('"nt-down"')).length, 0);

    smtp = await startReceiver('smtp', SMTP_PORT, mailsFile());
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await rehome(['reconcile']);
    const to = 'ops@example.net';
    await waitForRecord<Mail>(mailsFile(), 'scheduled mail', mailFor(guest.name, to, /will move/), 10_000);
    await waitForRecord<Mail>(
      mailsFile(),
      'completed mail',
      mailFor(guest.name, to, /moved|done|complete/i),
      10_000,
    );
    const delivered = (await statusOf(guest.name)).history.filter(
      (h) => h.step === 'notice.delivered' && h.detail.channel === 'mail',
    );
    t.true(delivered.length >= 2);
    t.true(
      delivered.every((d) => Number(d.detail.attempt) >= 2),
      'delivered on a retry',
    );
  },
);

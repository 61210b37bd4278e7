import test from 'ava';
import { dueNotices, reminderKey, reminderOffsets } from '../../src/notify/reminders.js';

const H = 3_600_000;
const deadline = '2026-12-15T22:00:00.000Z';
const at = (hoursBefore: number) => new Date(Date.parse(deadline) - hoursBefore * H);
const scheduled = { deadline, scheduledAt: at(100).toISOString() };

test('nothing is due before the first reminder', (t) => {
  t.deepEqual(dueNotices(scheduled, at(73), new Set()), []);
});

test('each default reminder comes due at its offset, once', (t) => {
  const sent = new Set<string>();
  const seen: string[] = [];
  for (let hoursBefore = 99; hoursBefore > 0; hoursBefore -= 0.25) {
    for (const due of dueNotices(scheduled, at(hoursBefore), sent)) {
      seen.push(`${due.key}@${hoursBefore}`);
      sent.add(due.key);
    }
  }
  t.deepEqual(seen, [
    `${reminderKey(deadline, 72 * H)}@72`,
    `${reminderKey(deadline, 24 * H)}@24`,
    `${reminderKey(deadline, 1 * H)}@1`,
  ]);
  t.is(reminderKey(deadline, 72 * H), 'reminder:3d:2026-12-15T22:00:00.000Z');
});

test('a reminder whose time passed before scheduling is skipped', (t) => {
  const late = { deadline, scheduledAt: at(30).toISOString() };
  const due = dueNotices(late, at(29), new Set());
  t.deepEqual(due, []);
  t.deepEqual(
    dueNotices(late, at(23.5), new Set()).map((d) => d.offsetMs),
    [24 * H],
  );
});

test('after downtime only the latest due reminder goes, and the earlier ones never follow', (t) => {
  const due = dueNotices(scheduled, at(12), new Set());
  t.deepEqual(
    due.map((d) => d.offsetMs),
    [24 * H],
  );
  t.deepEqual(dueNotices(scheduled, at(11), new Set([due[0]?.key as string])), []);
});

test('nothing is due at or after the deadline', (t) => {
  t.deepEqual(dueNotices(scheduled, at(0), new Set()), []);
  t.deepEqual(dueNotices(scheduled, at(-1), new Set()), []);
});

test('a reschedule starts a fresh set of reminders', (t) => {
  const sent = new Set([reminderKey(deadline, 24 * H)]);
  const later = '2026-12-17T22:00:00.000Z';
  const due = dueNotices({ deadline: later, scheduledAt: at(12).toISOString() }, at(-24), sent);
  t.deepEqual(
    due.map((d) => d.key),
    [reminderKey(later, 24 * H)],
  );
});

test('offsets come from the config, largest first, deduplicated', (t) => {
  t.deepEqual(reminderOffsets(undefined), [72 * H, 24 * H, H]);
  t.deepEqual(reminderOffsets(['1h', '2d', '48h', '90m']), [48 * H, 1.5 * H, H]);
  t.throws(() => reminderOffsets(['soon']));
  const custom = reminderOffsets(['90m']);
  t.deepEqual(
    dueNotices(scheduled, at(1.4), new Set(), custom).map((d) => d.offsetMs),
    [1.5 * H],
  );
});

import test from 'ava';
import { RehomeError } from '../../src/errors.js';
import {
  checkDeadline,
  deadlineWindow,
  formatDuration,
  parseDeadline,
  parseDuration,
} from '../../src/notify/deadline.js';

const now = new Date('2026-12-01T10:00:00Z');

test('ISO instants with a zone are accepted, in every spelling of the zone', (t) => {
  t.is(parseDeadline('2026-12-15T22:00Z', now).toISOString(), '2026-12-15T22:00:00.000Z');
  t.is(parseDeadline('2026-12-15T22:00:30.5z', now).toISOString(), '2026-12-15T22:00:30.500Z');
  t.is(parseDeadline('2026-12-15T23:00+01:00', now).toISOString(), '2026-12-15T22:00:00.000Z');
  t.is(parseDeadline('2026-12-15T17:00-0500', now).toISOString(), '2026-12-15T22:00:00.000Z');
  t.is(parseDeadline(' 2026-12-15 22:00Z ', now).toISOString(), '2026-12-15T22:00:00.000Z');
});

test('relative deadlines count from now', (t) => {
  t.is(parseDeadline('+7d', now).toISOString(), '2026-12-08T10:00:00.000Z');
  t.is(parseDeadline('+36h', now).toISOString(), '2026-12-02T22:00:00.000Z');
  t.is(parseDeadline('+90m', now).toISOString(), '2026-12-01T11:30:00.000Z');
});

test('zone-less and malformed deadlines are usage errors that say why', (t) => {
  const cases: [string, RegExp][] = [
    ['2026-12-15T22:00', /no time zone/],
    ['2026-12-15', /no time zone/],
    ['2026-02-30T10:00Z', /not a real date/],
    ['2026-12-15T25:00Z', /not a real date/],
    ['+7', /relative deadline/],
    ['+0d', /relative deadline/],
    ['+7w', /relative deadline/],
    ['+-3h', /relative deadline/],
    ['tomorrow', /neither an ISO 8601/],
    ['', /neither an ISO 8601/],
    ['1734300000', /neither an ISO 8601/],
  ];
  for (const [input, why] of cases) {
    const error = t.throws(() => parseDeadline(input, now), { instanceOf: RehomeError }, input);
    t.is(error?.kind, 'invalid-input', input);
    t.regex(error?.message ?? '', why, input);
  }
});

test('durations round-trip through their shortest label', (t) => {
  t.is(parseDuration('72h'), 72 * 3_600_000);
  t.is(parseDuration('90m'), 90 * 60_000);
  t.is(parseDuration('3d'), 3 * 86_400_000);
  t.is(parseDuration('1.5h'), undefined);
  t.is(formatDuration(72 * 3_600_000), '3d');
  t.is(formatDuration(36 * 3_600_000), '36h');
  t.is(formatDuration(90 * 60_000), '90m');
});

test('the window counts the operator limit from the first scheduling, not from now', (t) => {
  const scheduledAt = new Date('2026-11-20T10:00:00Z');
  const window = deadlineWindow(scheduledAt, now, 30);
  t.is(window.latest.toISOString(), '2026-12-20T10:00:00.000Z');
  t.is(checkDeadline(new Date('2026-12-20T10:00:00Z'), window).toISOString(), '2026-12-20T10:00:00.000Z');
  t.throws(() => checkDeadline(new Date('2026-12-20T10:00:01Z'), window), { message: /operator's limit/ });
  t.throws(() => checkDeadline(now, window), { message: /not in the future/ });
  t.is(deadlineWindow(scheduledAt, now).latest.toISOString(), '2026-12-20T10:00:00.000Z');
});

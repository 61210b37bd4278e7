import { RehomeError } from '../errors.js';

export const DEFAULT_MAX_DEADLINE_DAYS = 30;

const MINUTE_MS = 60_000;
const UNIT_MS = { s: 1000, m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS } as const;

/** "90m", "36h", "7d" (and "45s", for short lab runs) → milliseconds; undefined when it is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,5})([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** The shortest exact label: 4320 min → "3d", 90 min → "90m". */
export function formatDuration(ms: number): string {
  if (ms % UNIT_MS.d === 0) return `${ms / UNIT_MS.d}d`;
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % MINUTE_MS !== 0) return `${Math.round(ms / UNIT_MS.s)}s`;
  return `${Math.round(ms / MINUTE_MS)}m`;
}

// Date and time, seconds and fraction optional, then Z or an explicit ±HH:MM offset: never a zone-less local time.
const ISO_WITH_ZONE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * `--deadline` as given: an ISO 8601 instant with its zone (`2026-12-15T22:00Z`, `2026-12-15T23:00+01:00`), or a
 * time from now (`+7d`, `+36h`, `+90m`). A zone-less time is refused: whose 22:00 would it be?
 */
export function parseDeadline(input: string, now: Date): Date {
  const text = input.trim();
  if (text.startsWith('+')) {
    const ms = parseDuration(text.slice(1));
    if (ms === undefined) throw badDeadline(input, 'a relative deadline is + and a number of s, m, h or d');
    return new Date(now.getTime() + ms);
  }
  const match = ISO_WITH_ZONE.exec(text);
  if (!match) {
    const why = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text)
      ? 'it has no time zone: add Z for UTC, or an offset such as +01:00'
      : 'it is neither an ISO 8601 date-time with a zone nor a relative +Nd/+Nh/+Nm';
    throw badDeadline(input, why);
  }
  const [, year, month, day, hour, minute, second = '0'] = match;
  const canonical = text
    .replace(' ', 'T')
    .replace(/z$/, 'Z')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const instant = new Date(canonical);
  if (Number.isNaN(instant.getTime()) || !fieldsAreReal(year, month, day, hour, minute, second)) {
    throw badDeadline(input, 'it is not a real date and time');
  }
  return instant;
}

function fieldsAreReal(...fields: (string | undefined)[]): boolean {
  const [year, month, day, hour, minute, second] = fields.map(Number) as number[];
  const probe = new Date(Date.UTC(year as number, (month as number) - 1, day as number));
  return (
    probe.getUTCMonth() === (month as number) - 1 &&
    probe.getUTCDate() === day &&
    (hour as number) < 24 &&
    (minute as number) < 60 &&
    (second as number) < 60
  );
}

function badDeadline(input: string, why: string): RehomeError {
  return new RehomeError(`Bad deadline ${JSON.stringify(input)}: ${why}`, 'invalid-input', [
    'Examples: --deadline 2026-12-15T22:00Z, --deadline 2026-12-15T23:00+01:00, --deadline +7d',
  ]);
}

export interface DeadlineWindow {
  /** Deadlines must be after this. */
  earliest: Date;
  /** And at or before this: the operator's limit. */
  latest: Date;
}

/**
 * Where a deadline may fall. The limit counts from when the migration was first scheduled, so rescheduling again
 * and again cannot push a move past the operator's limit.
 */
export function deadlineWindow(
  scheduledAt: Date,
  now: Date,
  maxDeadlineDays = DEFAULT_MAX_DEADLINE_DAYS,
): DeadlineWindow {
  return { earliest: now, latest: new Date(scheduledAt.getTime() + maxDeadlineDays * UNIT_MS.d) };
}

/** A migration scheduled without a deadline gets the operator's limit, counted from when it was scheduled. */
export function defaultDeadline(scheduledAt: Date, maxDeadlineDays = DEFAULT_MAX_DEADLINE_DAYS): Date {
  return deadlineWindow(scheduledAt, scheduledAt, maxDeadlineDays).latest;
}

/** Throws a usage error unless `deadline` is inside the window. */
export function checkDeadline(deadline: Date, window: DeadlineWindow): Date {
  if (deadline.getTime() <= window.earliest.getTime()) {
    throw new RehomeError(`The deadline ${deadline.toISOString()} is not in the future`, 'invalid-input');
  }
  if (deadline.getTime() > window.latest.getTime()) {
    throw new RehomeError(
      `The deadline ${deadline.toISOString()} is after the operator's limit, ${window.latest.toISOString()}`,
      'invalid-input',
      ['Pick an earlier deadline, or raise notify.maxDeadlineDays in the config.'],
    );
  }
  return deadline;
}

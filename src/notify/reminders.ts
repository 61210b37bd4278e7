import { formatDuration, parseDuration } from './deadline.js';

/** 72 h, 24 h and 1 h before the deadline. */
export const DEFAULT_REMINDER_OFFSETS_MS: readonly number[] = [72, 24, 1].map((hours) => hours * 3_600_000);

/** Config strings ("72h", "90m") to offsets, largest first, without duplicates. */
export function reminderOffsets(config: readonly string[] | undefined): number[] {
  if (config === undefined) return [...DEFAULT_REMINDER_OFFSETS_MS];
  const offsets = config.map((text) => {
    const ms = parseDuration(text);
    if (ms === undefined) throw new RangeError(`Bad reminder offset ${JSON.stringify(text)}`);
    return ms;
  });
  return [...new Set(offsets)].sort((a, b) => b - a);
}

/** What the reminder logic needs of a migration. */
export interface ReminderSubject {
  /** ISO 8601; the current deadline. */
  deadline: string;
  /** ISO 8601; when the current deadline was set (the scheduled notice, or the last reschedule). */
  scheduledAt: string;
}

export interface DueReminder {
  /** Stable key for "already sent": it names the deadline too, so a reschedule starts a fresh set. */
  key: string;
  offsetMs: number;
  /** ISO 8601 instant the reminder was due. */
  dueAt: string;
}

/** `reminder:24h:2026-12-15T22:00:00.000Z` */
export function reminderKey(deadline: string, offsetMs: number): string {
  return `reminder:${formatDuration(offsetMs)}:${new Date(deadline).toISOString()}`;
}

/**
 * The reminder to send now, if any (at most one). A reminder whose time came before the deadline was set is never
 * sent (the scheduled notice said it all); one already sent is never sent again; and when several came due while
 * nobody was watching, only the latest goes out, and the earlier ones count as superseded for good.
 */
export function dueNotices(
  migration: ReminderSubject,
  now: Date,
  alreadySent: ReadonlySet<string>,
  offsetsMs: readonly number[] = DEFAULT_REMINDER_OFFSETS_MS,
): DueReminder[] {
  const deadline = new Date(migration.deadline).getTime();
  const scheduledAt = new Date(migration.scheduledAt).getTime();
  if (Number.isNaN(deadline) || Number.isNaN(scheduledAt) || now.getTime() >= deadline) return [];
  const reminders = [...new Set(offsetsMs)]
    .filter((offset) => offset > 0)
    .sort((a, b) => a - b)
    .map((offsetMs) => ({
      key: reminderKey(migration.deadline, offsetMs),
      offsetMs,
      at: deadline - offsetMs,
    }))
    .filter((reminder) => reminder.at >= scheduledAt);
  // Smallest offset first: the first one that is due, or already sent, supersedes every larger one.
  for (const reminder of reminders) {
    if (alreadySent.has(reminder.key)) return [];
    if (reminder.at <= now.getTime()) {
      return [{ key: reminder.key, offsetMs: reminder.offsetMs, dueAt: new Date(reminder.at).toISOString() }];
    }
  }
  return [];
}

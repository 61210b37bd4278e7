import { checkDeadline, deadlineWindow, parseDeadline as parseDeadlineInput } from '../notify/deadline.js';

/**
 * `--deadline` (ISO 8601 with its zone, or +7d/+36h/+90m) → ISO UTC, within the operator's limit counted from now.
 * The one parser is notify's: a zone-less time is refused.
 */
export function resolveDeadline(value: string, now = new Date(), maxDeadlineDays?: number): string {
  return checkDeadline(
    parseDeadlineInput(value, now),
    deadlineWindow(now, now, maxDeadlineDays),
  ).toISOString();
}

/** Kept for callers that predate resolveDeadline; the default limit (30 days) applies. */
export function parseDeadline(value: string, now = new Date()): string {
  return resolveDeadline(value, now);
}

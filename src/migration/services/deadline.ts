import { checkDeadline, deadlineWindow, defaultDeadline, parseDeadline } from '../../notify/deadline.js';

export interface ResolvedDeadline {
  /** ISO 8601 UTC. */
  deadline: string;
  /** `given` by --deadline, or the `operator-limit` (notify.maxDeadlineDays from now) when none was. */
  source: 'given' | 'operator-limit';
}

/**
 * `--deadline` (ISO 8601 with its zone, or +7d/+36h/+90m) → ISO UTC, within the operator's limit counted from now;
 * without one, that limit itself, so that what the owner is told is what watch and reconcile enforce. The one parser
 * is notify's: a zone-less time is refused.
 */
export function resolveDeadline(
  value: string | undefined,
  now = new Date(),
  maxDeadlineDays?: number,
): ResolvedDeadline {
  if (value === undefined)
    return { deadline: defaultDeadline(now, maxDeadlineDays).toISOString(), source: 'operator-limit' };
  const deadline = checkDeadline(parseDeadline(value, now), deadlineWindow(now, now, maxDeadlineDays));
  return { deadline: deadline.toISOString(), source: 'given' };
}

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** How far `zone` is ahead of UTC at `instant`, in ms (rounded to the minute). */
function offsetMs(instant: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  return asUtc - Math.floor(instant / 60_000) * 60_000;
}

/**
 * A browser's `datetime-local` value ("2026-12-15T23:00"), read as a wall-clock time in `zone`. Two passes settle
 * the offset across a DST change; a time skipped by the change lands just after it.
 */
export function zonedWallTimeToUtc(wall: string, zone: string): Date | undefined {
  const match = WALL_TIME.exec(wall.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute] = match.map(Number) as number[];
  const guess = Date.UTC(
    year as number,
    (month as number) - 1,
    day as number,
    hour as number,
    minute as number,
  );
  if (new Date(guess).getUTCDate() !== day || (hour as number) > 23 || (minute as number) > 59)
    return undefined;
  const first = guess - offsetMs(guess, zone);
  return new Date(guess - offsetMs(first, zone));
}

/** The `datetime-local` value for `instant` in `zone`. */
export function wallTimeIn(instant: Date, zone: string): string {
  const shifted = new Date(instant.getTime() + offsetMs(instant.getTime(), zone));
  return shifted.toISOString().slice(0, 16);
}

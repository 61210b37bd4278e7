const DEFAULT_LOCALE = 'en-GB';

/**
 * `zone` when the runtime knows it (with the case fixed when it matches a listed zone), else undefined. The owner's
 * spelling is kept otherwise: Node 20's ICU would turn "Asia/Kolkata" into the legacy "Asia/Calcutta".
 */
export function canonicalTimeZone(zone: string | undefined): string | undefined {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    return undefined;
  }
  const lower = zone.toLowerCase();
  if (lower === 'utc') return 'UTC';
  return Intl.supportedValuesOf('timeZone').find((known) => known.toLowerCase() === lower) ?? zone;
}

function part(parts: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes): string {
  return parts.find((p) => p.type === type)?.value ?? '';
}

/** "UTC+01:00" for Paris in winter, "UTC+02:00" in summer: the offset in force at `instant`. */
export function utcOffset(instant: Date, zone: string): string {
  const parts = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(
    instant,
  );
  const offset = part(parts, 'timeZoneName').replace(/^GMT/, '');
  return `UTC${offset === '' ? '+00:00' : offset}`;
}

/**
 * "Tuesday 15 December 2026, 23:00 CET (UTC+01:00, Europe/Paris)", or "Tuesday 15 December 2026, 22:00 UTC" for
 * UTC. Always with an explicit offset, so the reader never has to know the zone's rules.
 */
export function formatInstant(instant: Date, zone: string, locale = DEFAULT_LOCALE): string {
  const parts = new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(instant);
  const when = `${part(parts, 'weekday')} ${part(parts, 'day')} ${part(parts, 'month')} ${part(parts, 'year')}, ${part(parts, 'hour')}:${part(parts, 'minute')}`;
  if (zone === 'UTC') return `${when} UTC`;
  const abbreviation = part(parts, 'timeZoneName');
  const offset = utcOffset(instant, zone);
  const label = abbreviation.startsWith('GMT') || abbreviation.startsWith('UTC') ? '' : `${abbreviation} `;
  return `${when} ${label}(${offset}, ${zone})`;
}

export function parseInstant(iso: string, what: string): Date {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime()))
    throw new TypeError(`${what} is not a valid date: ${JSON.stringify(iso)}`);
  return instant;
}

/** A rough, honest "how long until": "3 days", "24 hours", "45 minutes"; "now" when past. */
export function describeTimeLeft(from: Date, to: Date): string {
  const minutes = Math.round((to.getTime() - from.getTime()) / 60_000);
  if (minutes <= 0) return 'now';
  const hours = Math.round(minutes / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.round(hours / 24), 'day');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

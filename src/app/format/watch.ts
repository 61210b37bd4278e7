import type { TimedWatchEvent, WatchEvent } from '../../migration/index.js';

/** The line `rehome watch` prints when it has read the store: what it watches. */
export function formatWatchStart(
  event: Extract<WatchEvent, { event: 'started' }>,
  configuredHosts: number,
): string {
  const hosts =
    event.hosts.length === 0
      ? 'no host yet'
      : `${event.hosts.length} host${event.hosts.length === 1 ? '' : 's'} (${event.hosts.join(', ')})`;
  const armed = `${event.armed} VM${event.armed === 1 ? '' : 's'} armed`;
  return `rehome watch: ${armed}; watching ${hosts} of ${configuredHosts} configured. Waiting for reboots.`;
}

/** One event as one JSON line (`watch --json`): `at` first, then `event`, then its fields. */
export function formatWatchEventLine(event: TimedWatchEvent): string {
  return JSON.stringify(event);
}

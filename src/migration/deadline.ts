import { RehomeError } from '../cli/errors.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `+7d`, `+12h`, `+30m`, `+2w`, or an ISO-8601 date, into ISO UTC. */
export function parseDeadline(value: string, now = new Date()): string {
  const relative = /^\+(\d+)([mhdw])$/.exec(value.trim());
  if (relative) {
    return new Date(
      now.getTime() + Number(relative[1]) * (UNITS[relative[2] as string] as number),
    ).toISOString();
  }
  const at = Date.parse(value);
  if (Number.isNaN(at)) {
    throw new RehomeError(
      `Bad deadline ${JSON.stringify(value)}: use an ISO date or +Nm, +Nh, +Nd, +Nw`,
      'usage',
    );
  }
  if (at <= now.getTime()) throw new RehomeError(`The deadline ${value} is in the past`, 'usage');
  return new Date(at).toISOString();
}

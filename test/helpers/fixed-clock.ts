/** A "now" that moves only when the test moves it, for code that takes a `now: () => Date`. */
export interface FixedClock {
  /** The current instant in epoch ms: set it or add to it to move the clock. */
  ms: number;
  readonly now: () => Date;
}

/**
 * A clock standing at `iso` (e.g. '2026-11-25T10:00:00.000Z'). With `tickMs`, every reading first moves it on by that
 * much, for records that must get distinct, ordered times.
 */
export function fixedClock(iso: string, options: { tickMs?: number } = {}): FixedClock {
  const start = Date.parse(iso);
  if (Number.isNaN(start)) throw new Error(`fixedClock: not an ISO instant: ${iso}`);
  const tickMs = options.tickMs ?? 0;
  const clock: FixedClock = {
    ms: start,
    now: () => {
      clock.ms += tickMs;
      return new Date(clock.ms);
    },
  };
  return clock;
}

/**
 * The speed of a block copy and when it should be ready, from successive readings of its progress (cur of end
 * bytes). The rate is taken over the last `windowMs` of readings, so a stall shows within that window and an early
 * burst does not promise too much. Pure.
 */
import { formatBytes, formatDuration } from '../placement/units.js';

export interface RateReading {
  /** Bytes per second over the window; null until two readings span time. */
  bytesPerSec: number | null;
  /** Seconds until cur reaches end at that rate; null when unknown or when nothing moves. */
  etaSeconds: number | null;
}

export class CopyRate {
  private readonly samples: { cur: number; at: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  sample(cur: number, end: number, at: number): RateReading {
    this.samples.push({ cur, at });
    while (this.samples.length > 2 && at - (this.samples[1]?.at ?? at) >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    if (!first || at <= first.at) return { bytesPerSec: null, etaSeconds: null };
    const bytesPerSec = Math.max(0, ((cur - first.cur) * 1000) / (at - first.at));
    const etaSeconds = bytesPerSec > 0 ? Math.ceil(Math.max(0, end - cur) / bytesPerSec) : null;
    return { bytesPerSec, etaSeconds };
  }
}

/** "1.2 GiB / 4 GiB (30%), 110.5 MiB/s, ETA 26 s"; without a rate yet, the bytes alone. */
export function describeCopyProgress(cur: number, end: number, rate: RateReading): string {
  const percent = end > 0 ? Math.floor((cur / end) * 100) : 0;
  const bytes = `${formatBytes(cur)} / ${formatBytes(end)} (${percent}%)`;
  if (rate.bytesPerSec === null) return bytes;
  const speed = `${formatBytes(Math.round(rate.bytesPerSec))}/s`;
  return `${bytes}, ${speed}, ETA ${rate.etaSeconds === null ? 'unknown (no progress)' : formatDuration(rate.etaSeconds)}`;
}

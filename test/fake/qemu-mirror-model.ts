/**
 * A model of QEMU 7.2's mirror job in its first pass, close enough to its rate limit to show what a governor does to
 * it, in simulated milliseconds:
 * - the rate limit is include/qemu/ratelimit.h: 100 ms slices, the bytes of the current slice counted against the
 *   speed set when the job next asks, the slice stretched when they exceed it; speed 0 counts nothing;
 * - the job (block/mirror.c) issues an iteration of at most its buffer, counts it, then sleeps as long as the limit
 *   says; block-job-set-speed wakes it only when the speed goes up or to unlimited (blockjob.c);
 * - requests are served one after another, data at `dataBytesPerSec`, zeros at `zeroBytesPerSec`, at most 16 in
 *   flight, and `cur` counts a request only once it is done, so over zeros it lags what was issued.
 */

const SLICE_MS = 100;
const MAX_IN_FLIGHT = 16;

class RateLimit {
  private quota = 0;
  private sliceStart = Number.NEGATIVE_INFINITY;
  private sliceEnd = Number.NEGATIVE_INFINITY;
  private dispatched = 0;

  setSpeed(bytesPerSec: number): void {
    this.quota = bytesPerSec === 0 ? 0 : Math.max((bytesPerSec * SLICE_MS) / 1000, 1);
  }

  /** ratelimit_calculate_delay: counts `n` bytes, returns the ms to wait (0 or less: none). */
  delay(nowMs: number, n: number): number {
    if (this.quota === 0) return 0;
    if (this.sliceEnd < nowMs) {
      this.sliceStart = nowMs;
      this.sliceEnd = nowMs + SLICE_MS;
      this.dispatched = 0;
    }
    this.dispatched += n;
    if (this.dispatched < this.quota) return 0;
    this.sliceEnd = this.sliceStart + (this.dispatched / this.quota) * SLICE_MS;
    return this.sliceEnd - nowMs;
  }
}

/** Where data is, as the governor's map says. */
export interface DataLayout {
  readonly size: number;
  dataBetween(from: number, to: number): number;
}

export interface MirrorModelOptions {
  /** The job's buffer: one iteration issues at most this much. */
  bufBytes: number;
  /** The job's speed when it starts (bytes per second, 0 unlimited). */
  initialSpeed: number;
  dataBytesPerSec: number;
  zeroBytesPerSec: number;
  /** Between two readings of the governor; every fifth reading comes half a period late. */
  periodMs: number;
  /** The governor: given `cur` and the time, the speed to set (the same value again sets nothing). */
  govern: (cur: number, nowMs: number) => number;
}

export interface MirrorModelRun {
  /** Until the first pass was done. */
  seconds: number;
  /** The most data sent in any one second. */
  maxDataPerSecond: number;
  /** The longest time `cur` stood still. */
  longestStillMs: number;
}

export function runMirrorModel(layout: DataLayout, options: MirrorModelOptions): MirrorModelRun {
  const limit = new RateLimit();
  let speed = options.initialSpeed;
  limit.setSpeed(speed);
  const inFlight: { bytes: number; data: number; doneAt: number }[] = [];
  let issued = 0;
  let cur = 0;
  let servedUntil = 0;
  let sleepUntil = 0;
  let kicked = false;
  let nextReading = 0;
  let readings = 0;
  let lastMove = 0;
  let longestStillMs = 0;
  const dataPerMs: number[] = [];

  for (let now = 0; cur < layout.size; now++) {
    if (now > 3_600_000) throw new Error('the model ran an hour without finishing');
    let sent = 0;
    while (inFlight.length > 0 && (inFlight[0]?.doneAt ?? Number.POSITIVE_INFINITY) <= now) {
      const done = inFlight.shift() as { bytes: number; data: number };
      cur += done.bytes;
      sent += done.data;
      lastMove = now;
    }
    dataPerMs.push(sent);
    longestStillMs = Math.max(longestStillMs, now - lastMove);
    if (now >= nextReading) {
      const wanted = options.govern(cur, now);
      if (wanted !== speed) {
        const wakes = wanted === 0 || wanted > speed;
        speed = wanted;
        limit.setSpeed(speed);
        if (wakes) kicked = true;
      }
      readings++;
      nextReading = now + (readings % 5 === 0 ? options.periodMs * 1.5 : options.periodMs);
    }
    if (now < sleepUntil && !kicked) continue;
    if (sleepUntil > 0 || kicked) {
      // block_job_ratelimit_sleep: asks again after each sleep, woken or not.
      kicked = false;
      const wait = limit.delay(now, 0);
      if (wait > 0) {
        sleepUntil = now + wait;
        continue;
      }
      sleepUntil = 0;
    }
    while (issued < layout.size && inFlight.length < MAX_IN_FLIGHT) {
      const bytes = Math.min(options.bufBytes, layout.size - issued);
      const data = layout.dataBetween(issued, issued + bytes);
      const serviceMs = (data / options.dataBytesPerSec + (bytes - data) / options.zeroBytesPerSec) * 1000;
      servedUntil = Math.max(servedUntil, now) + serviceMs;
      inFlight.push({ bytes, data, doneAt: servedUntil });
      issued += bytes;
      limit.delay(now, bytes);
      const wait = limit.delay(now, 0);
      if (wait > 0) {
        sleepUntil = now + wait;
        break;
      }
    }
  }

  let window = 0;
  let maxDataPerSecond = 0;
  for (let i = 0; i < dataPerMs.length; i++) {
    window += dataPerMs[i] as number;
    if (i >= 1000) window -= dataPerMs[i - 1000] as number;
    maxDataPerSecond = Math.max(maxDataPerSecond, window);
  }
  return { seconds: dataPerMs.length / 1000, maxDataPerSecond, longestStillMs };
}

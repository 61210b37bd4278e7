/**
 * A `--bandwidth` budget that counts the bytes sent, not the disk's size.
 *
 * QEMU's mirror job counts every region it processes against its speed, zero (unallocated) regions included, unless
 * its target node was opened with discard=unmap (QEMU 7.2 block/mirror.c: `write_zeroes_ok`), and libvirt opens the
 * block copy's target with the guest disk's own `discard`: only a disk defined with `<driver discard='unmap'/>` gets
 * that, whatever the destination XML says (measured on libvirt 9.0). Otherwise a thin 1 TiB disk holding 20 GiB would
 * take 1 TiB ÷ budget to become ready.
 *
 * So rehome drives the job's speed itself during the first pass. It knows where the data is (the source image's
 * allocation map, `qemu-img map`), and the job walks the disk from offset 0 with every chunk dirty, `cur` counting
 * what it has done. Each period the speed is set so that the stretch the job covers before the next period holds at
 * most budget × period of data: the budget over data, much faster over zero regions. Once the first pass is done
 * (cur ≥ the disk's size), what is left are the guest's own writes, all data: the budget again, for good. The budget
 * the job runs at is 20/21 of the user's (jobSpeedUnder: QEMU's rate limit is bursty).
 *
 * The speed comes down gently before data (SpeedSchedule). QEMU's rate limit (include/qemu/ratelimit.h) counts the
 * bytes of its current 100 ms slice against whatever speed is set when it next asks: lowered from 350 MB/s straight to
 * 256 KiB/s, the ~35 MB it had just done over zeros become 134 s of budget, and the job sleeps that long with
 * nothing sent (seen in the lab: a copy stood still for 72 s). A lowering by at most EASE_DOWN at a time costs at most
 * EASE_DOWN slices of sleep.
 */
import type { LibvirtClient } from '../libvirt/client.js';
import { BlockJobSetSpeedFlags } from '../libvirt/protocol/constants.js';
import type { DomainRef } from '../libvirt/protocol/types.js';
import { mustExec, type RemoteShell } from './remote.js';

const MiB = 1024 * 1024;

/**
 * The job's speed over data under a budget: 20/21 of it. QEMU's rate limit (include/qemu/ratelimit.h) sends each
 * 100 ms slice's share at once, at the slice's start, so a second can hold 11 slices' worth: up to 1.1 × the job's
 * speed (1.08 × measured, bench/README "bandwidth"). At 20/21 of the budget that is at most 1.05 × the budget, within
 * the tenth a second may go over, and a copy takes 5 % longer than at the budget itself.
 */
export function jobSpeedUnder(budgetBytesPerSec: number): number {
  return Math.floor((budgetBytesPerSec * 20) / 21);
}

/**
 * The copy job's buffer under a budget: a sixteenth of a second's budget, between 1 and 16 MiB (QEMU's default), a
 * multiple of 64 KiB. QEMU's rate limit lets a whole buffer go at once, so this bounds the bursts above the budget.
 */
export function mirrorBufSize(budgetBytesPerSec: number): number {
  const chunk = 64 * 1024;
  return Math.min(16 * MiB, Math.max(MiB, Math.floor(budgetBytesPerSec / 16 / chunk) * chunk));
}

/** `qemu-img map` of the source image, run on the source host: -U since the running QEMU holds it. */
export function allocationMapArgv(path: string, format: string): string[] {
  return ['qemu-img', 'map', '--output=json', '-U', '-f', format, path];
}

/** Where a disk's data is: sorted, merged [start, end) ranges, with prefix sums for quick counting. */
export class DataMap {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** Data bytes before range i. */
  private readonly before: number[] = [];
  readonly dataBytes: number;

  constructor(
    ranges: readonly { start: number; end: number }[],
    readonly size: number,
  ) {
    let total = 0;
    for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
      if (range.end <= range.start) continue;
      const last = this.ends.length - 1;
      if (last >= 0 && range.start <= (this.ends[last] as number)) {
        const grown = Math.max(this.ends[last] as number, range.end);
        total += grown - (this.ends[last] as number);
        this.ends[last] = grown;
        continue;
      }
      this.starts.push(range.start);
      this.ends.push(range.end);
      this.before.push(total);
      total += range.end - range.start;
    }
    this.dataBytes = total;
  }

  /** From `qemu-img map --output=json`: the extents that hold data (not holes, not zero clusters). */
  static fromQemuImgMap(json: string): DataMap {
    const entries = JSON.parse(json) as { start: number; length: number; data: boolean }[];
    const size = entries.reduce((end, e) => Math.max(end, e.start + e.length), 0);
    return new DataMap(
      entries.filter((e) => e.data).map((e) => ({ start: e.start, end: e.start + e.length })),
      size,
    );
  }

  /** Data bytes in [0, offset). */
  private dataBefore(offset: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.starts[mid] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    const i = lo - 1;
    return (this.before[i] as number) + Math.min(offset, this.ends[i] as number) - (this.starts[i] as number);
  }

  /** Data bytes in [from, to). */
  dataBetween(from: number, to: number): number {
    return to <= from ? 0 : this.dataBefore(to) - this.dataBefore(from);
  }

  /** The furthest offset y ≥ from with at most `allowance` data bytes in [from, y); the disk's end at most. */
  reach(from: number, allowance: number): number {
    const target = this.dataBefore(from) + allowance;
    if (target >= this.dataBytes) return this.size;
    // The first range whose data reaches past target.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const after = (this.before[mid] as number) + (this.ends[mid] as number) - (this.starts[mid] as number);
      if (after <= target) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(from, (this.starts[lo] as number) + target - (this.before[lo] as number));
  }
}

export interface BudgetOptions {
  /**
   * How far ahead of `cur` the job may already be reading (its buffer in flight); counted as ahead. Default: the
   * job's buffer under this budget (mirrorBufSize), which startMirror gives every budgeted copy.
   */
  slackBytes?: number;
  /** The stretch is sized for `safety` periods (default HORIZON_PERIODS). */
  safety?: number;
}

/**
 * Periods of look-ahead: three for how far the job may go before a speed set takes hold (a reading that comes late;
 * the copy's lead, over zeros QEMU has up to 16 requests in flight, which `cur` counts only once done; a slice's
 * share sent at once), and a third of that to slow down in EASE_DOWN steps, each covering a quarter of the one
 * before. With three, a job walking zeros at 12 GiB/s or more (the export's replies no longer wait for delayed ACKs)
 * reached a far extent faster than it could slow down and sent 76 × a 256 KiB/s budget in a second, in the model.
 */
export const HORIZON_PERIODS = 4;

/** A speed is lowered by at most this factor of the job's pace at a time (see the file's comment). */
export const EASE_DOWN = 4;

/** How far ahead of `cur` the job may be reading: `slackBytes`, or the job's buffer under this budget. */
function slackOf(budgetBytesPerSec: number, options: BudgetOptions): number {
  return options.slackBytes ?? mirrorBufSize(budgetBytesPerSec);
}

/**
 * The job speed (bytes per second; 0 means unlimited) for the next `periodMs`, the job standing at `cur` of its first
 * pass over `map`: the stretch it covers in `safety` periods holds at most that long's budget of data, and the stretch
 * it covers in one period at most one period's, `slackBytes` beyond each included. The first lets it slow down before
 * data ahead; the second keeps data just ahead (the end of an extent, the last data of the disk) from going at once.
 * Never below the budget: over data, the budget is the speed. Unlimited once the rest of the disk holds no more than
 * one period's budget of data. Pure. Here and in SpeedSchedule the budget is the job's speed over data (MirrorBudget
 * gives jobSpeedUnder the user's budget).
 */
export function budgetSpeed(
  map: DataMap,
  cur: number,
  budgetBytesPerSec: number,
  periodMs: number,
  options: BudgetOptions = {},
): number {
  if (cur >= map.size) return budgetBytesPerSec;
  const slack = slackOf(budgetBytesPerSec, options);
  const period = periodMs / 1000;
  const near = map.reach(cur, budgetBytesPerSec * period);
  if (near >= map.size) return 0;
  const horizon = (options.safety ?? HORIZON_PERIODS) * period;
  const far = map.reach(cur, budgetBytesPerSec * horizon);
  const speed = Math.min((far - slack - cur) / horizon, (near - slack - cur) / period);
  return Math.max(budgetBytesPerSec, Math.floor(speed));
}

/**
 * budgetSpeed, period after period, with two corrections while the first pass goes on:
 * - eased down: never below the job's pace since the last reading (the lower of the speed set then and the speed it
 *   went) ÷ EASE_DOWN. Over data reached sooner than planned this sends more than the budget for a period or two; the
 *   alternative, QEMU's sleep, lasts minutes;
 * - held at the budget while the data done is ahead of it (see `ahead`).
 */
export class SpeedSchedule {
  private last: { speed: number; cur: number; atMs: number } | undefined;
  private first: { cur: number; atMs: number } | undefined;

  constructor(
    private readonly map: DataMap,
    private readonly budgetBytesPerSec: number,
    private readonly periodMs: number,
    private readonly options: BudgetOptions = {},
  ) {}

  /** The speed for the next period (0: unlimited), the job standing at `cur` at `atMs` (a monotonic clock). */
  next(cur: number, atMs: number): number {
    this.first ??= { cur, atMs };
    let speed = budgetSpeed(this.map, cur, this.budgetBytesPerSec, this.periodMs, this.options);
    const last = this.last;
    if (this.ahead(this.first, cur, atMs)) {
      speed = this.budgetBytesPerSec;
    } else if (last && speed !== 0 && cur < this.map.size) {
      const elapsed = atMs - last.atMs;
      const went = elapsed > 0 ? (Math.max(0, cur - last.cur) * 1000) / elapsed : Number.POSITIVE_INFINITY;
      const pace = last.speed === 0 ? went : Math.min(last.speed, went);
      if (Number.isFinite(pace)) speed = Math.max(speed, Math.floor(pace / EASE_DOWN));
    }
    this.last = { speed, cur, atMs };
    return speed;
  }

  /**
   * More data done since the first reading than the budget allows in that time, a buffer aside: QEMU let a whole
   * buffer of data go at once and is sleeping it off at the budget. A faster speed would wake it and forgive the rest
   * (blockjob.c wakes a job whose speed goes up), so the budget holds until the time has caught up. Counted from the
   * first reading, not from 0: a resumed copy's earlier data was sent by an earlier run.
   */
  private ahead(first: { cur: number; atMs: number }, cur: number, atMs: number): boolean {
    const allowed =
      (this.budgetBytesPerSec * (atMs - first.atMs)) / 1000 + slackOf(this.budgetBytesPerSec, this.options);
    return this.map.dataBetween(first.cur, Math.min(cur, this.map.size)) > allowed;
  }
}

/** What the budget needs of a libvirt client (a fake in unit tests, virsh in the bench). */
export type BudgetClient = Pick<LibvirtClient, 'getBlockJobInfo' | 'blockJobSetSpeed'>;

/** How long MirrorBudget.stop waits for a reading in flight (a healthy RPC answers in milliseconds). */
const STOP_WAIT_MS = 2000;

export interface MirrorBudgetOptions extends BudgetOptions {
  /** Between two readings of the job; default 100 ms. */
  periodMs?: number;
  /** Told each speed set (bytes per second, 0 unlimited), for logs and tests. */
  onSpeed?: (speed: number, cur: number) => void;
  /** Told once, when the governor ends, why (the copy then runs at the plain budget, zero regions included). */
  onEnd?: (reason: GovernorEnd) => void;
}

/** Why a governor ended: only 'failed' leaves zero regions ahead of the job counting against the budget. */
export type GovernorEnd =
  | { kind: 'first-pass-done' }
  | { kind: 'qemu-skips-zeros' }
  | { kind: 'job-gone' }
  | { kind: 'stopped' }
  | { kind: 'failed'; error: Error; attempts: number };

/**
 * Readings or speed changes that may fail in a row before the governor gives up. One RPC that fails must not leave a
 * thin disk's zeros at the budget: ~17 min per 256 MiB at 256 KiB/s.
 */
const FAILURES_TOLERATED = 5;

/**
 * Drives one copy job's speed through its first pass (see the file's comment), then leaves it at its speed over data
 * (jobSpeedUnder the budget, as startMirror set it). Runs on its own timer, which never keeps the process alive; ends
 * when the pass is done, the job is gone, on stop(), or once readings have failed FAILURES_TOLERATED times in a row.
 * If the process ends first, the job keeps the last speed set until a later run governs it again.
 */
export class MirrorBudget {
  private stopped = false;
  private wake: () => void = () => {};
  private lastSpeed: number | undefined;
  private sized = false;
  private schedule: SpeedSchedule | undefined;
  /** The job's speed over data (jobSpeedUnder the budget), as startMirror sets it. */
  private readonly dataSpeed: number;
  private readonly finished: Promise<void>;
  private finish: () => void = () => {};

  constructor(
    private readonly client: BudgetClient,
    private readonly domain: DomainRef,
    private readonly disk: string,
    private readonly map: DataMap,
    budgetBytesPerSec: number,
    private readonly options: MirrorBudgetOptions = {},
  ) {
    this.dataSpeed = jobSpeedUnder(budgetBytesPerSec);
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  /** Worth governing: the disk has zero regions (a fully allocated one, e.g. an LVM volume, needs no help). */
  static needed(map: DataMap): boolean {
    return map.dataBytes < map.size;
  }

  start(): this {
    void this.loop();
    return this;
  }

  /** Resolves once the governor has ended (first pass done, job gone, stopped, or failures in a row: then at the budget). */
  done(): Promise<void> {
    return this.finished;
  }

  /**
   * Ends the governing, the job left at the budget (a copy found ready before the governor saw it may be unlimited).
   * Waits at most `waitMs` for a reading in flight: over a connection that died, it would hold the caller until the
   * keepalive gives up (~30 s); it ends by itself later, and sets the budget if it still can.
   */
  async stop(waitMs = STOP_WAIT_MS): Promise<void> {
    this.stopped = true;
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([this.finished, bound]);
    clearTimeout(timer);
  }

  /** One reading and one speed; true while the first pass goes on. Exposed for tests. */
  async step(periodMs: number): Promise<boolean> {
    return (await this.governOnce(periodMs)) === undefined;
  }

  /** One reading and one speed: why the governing ends, or undefined while the first pass goes on. */
  private async governOnce(periodMs: number): Promise<GovernorEnd | undefined> {
    const info = await this.client.getBlockJobInfo(this.domain, this.disk);
    if (!info) return { kind: 'job-gone' };
    const cur = Number(info.cur);
    if (!this.sized) {
      // QEMU sizes the job once it has marked what to copy (end is 0 until then). Less than the whole disk: it skips
      // the zero regions itself (a guest disk with discard='unmap'), cur no longer tells where the job stands, and the
      // plain budget is already right.
      if (info.end === 0n) return undefined;
      this.sized = true;
      if (Number(info.end) < this.map.size) return { kind: 'qemu-skips-zeros' };
    }
    this.schedule ??= new SpeedSchedule(this.map, this.dataSpeed, periodMs, this.options);
    await this.setSpeed(this.schedule.next(cur, performance.now()), cur);
    return cur < this.map.size ? undefined : { kind: 'first-pass-done' };
  }

  private async setSpeed(speed: number, cur: number): Promise<void> {
    if (speed === this.lastSpeed) return;
    await this.client.blockJobSetSpeed(
      this.domain,
      this.disk,
      BigInt(speed),
      BlockJobSetSpeedFlags.bandwidthBytes,
    );
    this.lastSpeed = speed;
    this.options.onSpeed?.(speed, cur);
  }

  private async loop(): Promise<void> {
    const periodMs = this.options.periodMs ?? 100;
    let end: GovernorEnd | undefined;
    let failures = 0;
    while (!end) {
      if (this.stopped) {
        end = { kind: 'stopped' };
        break;
      }
      try {
        end = await this.governOnce(periodMs);
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures >= FAILURES_TOLERATED)
          end = { kind: 'failed', error: error as Error, attempts: failures };
      }
      if (!end && !this.stopped) await this.sleep(periodMs);
    }
    if (this.lastSpeed !== undefined && this.lastSpeed !== this.dataSpeed)
      await this.setSpeed(this.dataSpeed, 0).catch(() => {});
    this.options.onEnd?.(end);
    this.finish();
  }

  /** A period, cut short by stop(); its timer never keeps the process alive. */
  private sleep(periodMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, periodMs);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * Reads the source image's allocation map on the source host and starts governing the copy of `disk` (its job must
 * exist); undefined when the plain speed is right already (a fully allocated disk, such as an LVM volume). The caller
 * stops it when it stops waiting for the copy; it ends by itself once the first pass is done.
 */
export async function startMirrorBudget(
  shell: RemoteShell,
  client: BudgetClient,
  domain: DomainRef,
  disk: { target: string; sourcePath: string; sourceFormat?: string },
  budgetBytesPerSec: number,
  options: MirrorBudgetOptions = {},
): Promise<MirrorBudget | undefined> {
  const argv = allocationMapArgv(disk.sourcePath, disk.sourceFormat ?? 'raw');
  const map = DataMap.fromQemuImgMap((await mustExec(shell, argv, 600_000)).stdout);
  if (!MirrorBudget.needed(map)) return undefined;
  return new MirrorBudget(client, domain, disk.target, map, budgetBytesPerSec, options).start();
}

/**
 * With a budget, governs every mirrored disk's copy (startMirrorBudget), for the wait until ready: one call at its
 * start, on a fresh copy as on a resumed one. A disk whose map cannot be read, or whose governor gave up, keeps the
 * plain job speed (zero regions then count against the budget): `onError` is told, the copy goes on.
 */
export async function governMirrors(
  shell: RemoteShell,
  client: BudgetClient,
  domain: DomainRef,
  disks: readonly { target: string; sourcePath: string; sourceFormat?: string }[],
  budgetBytesPerSec: number,
  onError: (disk: string, error: Error) => void = () => {},
): Promise<MirrorBudget[]> {
  const governors: MirrorBudget[] = [];
  for (const disk of disks) {
    try {
      const governor = await startMirrorBudget(shell, client, domain, disk, budgetBytesPerSec, {
        onEnd: (end) => {
          if (end.kind === 'failed')
            onError(
              disk.target,
              new Error(`${end.attempts} readings failed in a row, the last: ${end.error.message}`),
            );
        },
      });
      if (governor) governors.push(governor);
    } catch (error) {
      onError(disk.target, error as Error);
    }
  }
  return governors;
}

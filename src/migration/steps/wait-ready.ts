import { setTimeout as sleep } from 'node:timers/promises';
import { timeoutError } from '../../errors.js';
import type { LibvirtClient } from '../../libvirt/client.js';
import { formatBytes } from '../../placement/units.js';
import { mirrorProgress, sumProgress } from '../../sync/block-copy.js';
import { type JobErrors, listenForJobErrors } from '../../sync/job-errors.js';
import { governMirrors, type MirrorBudget } from '../../sync/mirror-budget.js';
import { observeExport } from '../../sync/nbd-export.js';
import { CopyRate, describeCopyProgress } from '../copy-rate.js';
import type { MigrationContext } from '../engine/context.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { mirroredDisks } from '../types.js';

/** Asks the target whether its exports still live; it must answer within `ms` (settings.targetCheckMs). */
async function checkTarget(ctx: MigrationContext, ms: number): Promise<void> {
  const host = ctx.record.targetHost;
  const shell = await withDeadline(ctx.hosts.ssh(host), ms, () =>
    timeoutError({ step: 'wait-ready', host, command: 'an SSH connection', timeoutMs: ms }),
  );
  for (const nbd of ctx.job.exports) {
    if ((await observeExport(shell, nbd, ms)) !== 'alive')
      throw new Error(`the NBD export of ${nbd.disk} on ${host} is gone (qemu-nbd pid ${nbd.pid})`);
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits until every job has copied everything once (ready); the guest keeps running meanwhile. A copy whose progress
 * stands still for `mirrorStallTimeoutMs` (its export hung) fails with a timeout naming the step, the source host and
 * what was waited for; and every `targetCheckMs` the target must show its exports alive, within as long, or the step
 * fails (the target host gone, its link down). The migration is then rolled back.
 */
export const waitReady: Step = {
  name: 'wait-ready',
  async check(ctx) {
    const client = await ctx.source();
    const disks = mirroredDisks(ctx.job);
    if (disks.length === 0) return skip('no disk is mirrored (read-only content only)');
    const progress = await Promise.all(disks.map((d) => mirrorProgress(client, ctx.domain, d.target)));
    if (progress.some((p) => !p.present)) return blocked('a disk has no block job');
    return ok;
  },
  async run(ctx) {
    // QEMU says why a copy job ended ("No space left on device"); libvirt's own event says only "failed".
    const jobErrors = await listenForJobErrors(await ctx.source(), ctx.domain);
    try {
      return await copyUntilReady(ctx, jobErrors);
    } finally {
      await jobErrors.stop();
    }
  },
};

async function copyUntilReady(ctx: MigrationContext, jobErrors: JobErrors) {
  const client = await ctx.source();
  const governors = await governBudget(ctx, client);
  try {
    return await pollUntilReady(ctx, client, jobErrors);
  } finally {
    await Promise.all(governors.map((governor) => governor.stop()));
  }
}

/** With --bandwidth, the budget counts the bytes sent: the job's speed is driven over the zero regions. */
async function governBudget(ctx: MigrationContext, client: LibvirtClient): Promise<MirrorBudget[]> {
  const budget = ctx.job.bandwidthBytesPerSec;
  if (!budget) return [];
  const shell = await ctx.hosts.ssh(ctx.record.sourceHost);
  return governMirrors(shell, client, ctx.domain, mirroredDisks(ctx.job), budget, (disk, error) =>
    ctx.note('wait-ready', `${disk}: zero regions count against --bandwidth (${error.message})`),
  );
}

async function pollUntilReady(ctx: MigrationContext, client: LibvirtClient, jobErrors: JobErrors) {
  const stallMs = ctx.settings.mirrorStallTimeoutMs ?? 300_000;
  const checkMs = ctx.settings.targetCheckMs ?? 10_000;
  let lastSaved = 0;
  const started = Date.now();
  let lastCur = -1;
  let movedAt = Date.now();
  let targetCheckedAt = Date.now();
  const outpaced = new OutpacedCopy(ctx.settings.catchUpNoteMs ?? 60_000);
  const rate = new CopyRate();
  const disks = mirroredDisks(ctx.job);
  for (;;) {
    const progress = await Promise.all(disks.map((d) => mirrorProgress(client, ctx.domain, d.target)));
    const lost = progress.find((p) => !p.present);
    if (lost) {
      const reason = await jobErrors.reasonFor(lost.disk);
      throw new Error(
        `the block job of ${lost.disk} ended before it was ready${reason ? `: ${reason}` : ''}`,
      );
    }
    const sum = sumProgress(progress);
    const speed = rate.sample(sum.cur, sum.end, Date.now());
    if (Date.now() - lastSaved > 2000 || sum.converged) {
      lastSaved = Date.now();
      await ctx.patchJob({
        progress: { cur: sum.cur, end: sum.end, at: new Date().toISOString(), ...speed },
      });
      ctx.note('wait-ready', describeCopyProgress(sum.cur, sum.end, speed));
    }
    if (sum.converged) return { bytes: sum.end, ms: Date.now() - started };
    const secondsSincePass = outpaced.check(disks, progress, Date.now());
    if (secondsSincePass !== undefined) {
      const outpacedBy = outpacedNote(secondsSincePass, speed.bytesPerSec, ctx.job.bandwidthBytesPerSec);
      ctx.note('wait-ready', outpacedBy);
      await ctx.audit('wait-ready', 'info', { outpacedBy });
    }
    if (Date.now() - targetCheckedAt >= checkMs) {
      // A target that went away (its link, its sshd) may leave the copy hanging rather than failing: ask it.
      await checkTarget(ctx, checkMs);
      targetCheckedAt = Date.now();
    }
    if (sum.cur !== lastCur) {
      lastCur = sum.cur;
      movedAt = Date.now();
    } else if (Date.now() - movedAt >= stallMs) {
      throw timeoutError({
        step: 'wait-ready',
        host: ctx.record.sourceHost,
        command: `the block copy of ${ctx.job.disks.map((d) => d.target).join(', ')} (no progress at ${formatBytes(sum.cur)} / ${formatBytes(sum.end)})`,
        timeoutMs: stallMs,
      });
    }
    await sleep(200);
  }
}

/**
 * Tells once when every disk's copy has been over all its blocks (its `cur` past the disk's size) and is still not
 * ready `afterMs` later: the guest dirties blocks as fast as the copy sends them, and QEMU calls a copy ready only
 * when it finds nothing left to send. Not an error: a guest may calm down; but under a --bandwidth below the guest's
 * write rate the wait may never end, and the operator should hear that.
 */
class OutpacedCopy {
  private passDoneAt: number | undefined;
  private told = false;

  constructor(private readonly afterMs: number) {}

  /** The seconds since the first pass ended, once, when it is time to tell; undefined otherwise. */
  check(
    disks: readonly { target: string; virtualSizeBytes: number }[],
    progress: readonly { disk: string; cur: number }[],
    now: number,
  ): number | undefined {
    const passDone = disks.every((disk) => {
      const cur = progress.find((p) => p.disk === disk.target)?.cur ?? 0;
      return disk.virtualSizeBytes > 0 && cur >= disk.virtualSizeBytes;
    });
    if (!passDone || this.told) return undefined;
    this.passDoneAt ??= now;
    if (now - this.passDoneAt < this.afterMs) return undefined;
    this.told = true;
    return Math.round((now - this.passDoneAt) / 1000);
  }
}

function outpacedNote(seconds: number, bytesPerSec: number | null, budget: number | undefined): string {
  const pace = bytesPerSec === null ? '' : ` (the copy sends ${formatBytes(Math.round(bytesPerSec))}/s)`;
  const advice = budget
    ? `; under --bandwidth ${formatBytes(budget)}/s it may never be (\`rehome cancel\`, then migrate with a larger budget)`
    : '';
  return `every block was copied once ${seconds} s ago, but the guest writes as fast as the copy goes${pace}: not ready yet${advice}`;
}

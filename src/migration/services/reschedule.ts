import { RehomeError } from '../../errors.js';
import { checkDeadline, deadlineWindow, parseDeadline } from '../../notify/deadline.js';
import type { Phase } from '../../store/phases.js';
import type { Runtime } from '../runtime.js';
import type { ProgressSink } from '../types.js';
import { signalGuest } from './guest-signal.js';
import { activeMigration, contextFor } from './locate.js';
import { withLock } from './lock.js';

/** Phases in which the deadline still means something: before the cutover began. */
const RESCHEDULABLE: readonly Phase[] = ['planned', 'preparing', 'mirroring', 'armed', 'mirror-lost'];

export interface RescheduleOptions {
  /** Name or UUID. */
  vm: string;
  /** As typed (`2026-12-15T22:00Z`, `+36h`), or already an instant (from a self-service link). */
  deadline: string | Date;
  /** Called with the VM's lock held and the phase checked, before anything changes; if it throws, nothing does. */
  onLocked?: () => void | Promise<void>;
}

export interface RescheduleResult {
  vm: string;
  id: string;
  phase: string;
  previousDeadline: string | null;
  deadline: string;
  /** The operator's limit for this migration. */
  latest: string;
}

/**
 * Moves the deadline within the operator's limit (counted from when the migration was created, so rescheduling
 * cannot push it further and further), restarts the reminders from now, and tells the owner again.
 */
export async function reschedule(
  rt: Runtime,
  options: RescheduleOptions,
  progress: ProgressSink,
): Promise<RescheduleResult> {
  const record = await activeMigration(rt, options.vm);
  const now = new Date();
  const window = deadlineWindow(new Date(record.createdAt), now, rt.config.notify?.maxDeadlineDays);
  const requested =
    typeof options.deadline === 'string' ? parseDeadline(options.deadline, now) : options.deadline;
  const deadline = checkDeadline(requested, window).toISOString();
  return withLock(rt, record.vmUuid, `reschedule ${record.vmName}`, async (held) => {
    const fresh = (await rt.store.getMigration(record.id)) ?? record;
    if (!RESCHEDULABLE.includes(fresh.phase)) {
      throw new RehomeError(
        `${fresh.vmName} is ${fresh.phase}: its deadline cannot move now`,
        'migration-failed',
        [],
        { subject: { code: 'wrong-phase', vm: fresh.vmName } },
      );
    }
    await options.onLocked?.();
    const ctx = contextFor(rt, fresh, progress, held);
    const previousDeadline = fresh.deadline;
    await ctx.patchJob({ scheduledAt: now.toISOString() }, { deadline });
    await ctx.audit('reschedule', 'ok', { from: previousDeadline, to: deadline });
    ctx.note('reschedule', `deadline ${previousDeadline ?? 'none'} → ${deadline}`);
    ctx.notices?.send(ctx.record, 'scheduled', { rescheduled: true });
    await signalGuest(rt, ctx, 'rescheduled');
    return {
      vm: fresh.vmName,
      id: fresh.id,
      phase: ctx.record.phase,
      previousDeadline,
      deadline,
      latest: window.latest.toISOString(),
    };
  });
}

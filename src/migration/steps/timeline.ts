import type { MigrationContext } from '../engine/context.js';

/** Records a cutover milestone in the job's timeline, in ms since the reboot event. */
export type MarkMilestone = (ctx: MigrationContext, milestone: string) => Promise<void>;

/** A cutover that no reboot event started (reconcile finishing one) records no timeline. */
export function milestoneMarker(eventAt: number | undefined): MarkMilestone {
  return async (ctx, milestone) => {
    if (eventAt === undefined) return;
    const at = Date.now() - eventAt;
    await ctx.patchJob((job) => ({ timeline: { ...job.timeline, [milestone]: at } }));
  };
}

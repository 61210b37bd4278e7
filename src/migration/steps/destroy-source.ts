import { setTimeout as sleep } from 'node:timers/promises';
import { mirrorProgress } from '../../sync/block-copy.js';
import { run } from '../../sync/remote.js';
import { refuseWhileActiveOnTarget, sourcePresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { mirroredDisks } from '../types.js';
import { guestMacs, tapsLeft } from './nic-xml.js';
import type { MarkMilestone } from './timeline.js';

/** The point where the source stops: only after the mirror ended converged while paused. */
export function destroySource(mark: MarkMilestone): Step {
  return {
    name: 'destroy-source',
    async check(ctx) {
      const presence = await sourcePresence(ctx);
      if (presence === 'shutoff') return skip('the source is shut off');
      // release-source undefined it: an earlier run of this cutover got past this step.
      if (presence === 'missing' && ctx.job.converged) return skip('the source is gone after converging');
      if (presence !== 'paused') return blocked(`the guest must be paused, it is ${presence}`);
      if (!ctx.job.converged) return blocked('the mirror has not ended converged');
      const client = await ctx.source();
      const jobs = await Promise.all(
        mirroredDisks(ctx.job).map((disk) => mirrorProgress(client, ctx.domain, disk.target)),
      );
      const left = jobs.find((job) => job.present);
      if (left) return blocked(`${left.disk} still has a job`);
      return ok;
    },
    async run(ctx) {
      await (await ctx.source()).destroyDomain(ctx.domain);
      await mark(ctx, 'sourceStopped');
      const shell = await ctx.hosts.ssh(ctx.record.sourceHost);
      const macs = guestMacs(ctx.job.inactiveXml);
      let left: string[] = [];
      for (let attempt = 0; attempt < 50; attempt++) {
        left = tapsLeft((await run(shell, ['ip', '-o', 'link'])).stdout, macs);
        if (left.length === 0) break;
        await sleep(50);
      }
      if (left.length > 0) throw new Error(`tap devices of the VM remain on the source: ${left.join(', ')}`);
      return {};
    },
    async undo(ctx) {
      if ((await sourcePresence(ctx)) !== 'shutoff') return;
      await refuseWhileActiveOnTarget(ctx, 'starting');
      await (await ctx.source()).createDomain(ctx.domain);
    },
  };
}

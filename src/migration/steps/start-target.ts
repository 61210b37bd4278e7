import { sourcePresence, targetPresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import type { SourceQemu } from './source-qemu.js';
import type { MarkMilestone } from './timeline.js';

/**
 * Never two copies: the target starts only while the source has no QEMU: this run saw it exit (destroy-source), or
 * libvirt says so (shut off, or gone).
 */
export function startTarget(mark: MarkMilestone, qemu: SourceQemu): Step {
  return {
    name: 'start-target',
    async check(ctx) {
      if ((await targetPresence(ctx)) === 'running') return skip('running on the target');
      // Asked only when this run did not see the exit: libvirt answers about a domain only once its destroy returned.
      if (!qemu.exited) {
        const source = await sourcePresence(ctx);
        if (source !== 'shutoff' && source !== 'missing') return blocked(`the VM is ${source} on the source`);
      }
      if (!ctx.job.converged) return blocked('the mirror never ended converged');
      return ok;
    },
    async run(ctx) {
      await (await ctx.targetClient()).createDomain(ctx.domain);
      await ctx.patchJob({ targetStarted: true });
      await mark(ctx, 'started');
      return {};
    },
  };
}

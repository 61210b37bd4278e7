import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecResult } from '../../host/ssh-connection.js';
import { mirrorProgress } from '../../sync/block-copy.js';
import { REMOTE_COMMAND_TIMEOUT_MS, run } from '../../sync/remote.js';
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
      const macs = guestMacs(ctx.job.inactiveXml);
      const shell = await ctx.hosts.ssh(ctx.record.sourceHost);
      // The first look at the taps is made ready while QEMU is destroyed, and runs only once it is gone.
      const firstLook =
        macs.length > 0
          ? shell.prepareExec(['ip', '-o', 'link'], { timeoutMs: REMOTE_COMMAND_TIMEOUT_MS })
          : undefined;
      try {
        await (await ctx.source()).destroyDomain(ctx.domain);
        await mark(ctx, 'sourceStopped');
        if (!firstLook) return {};
        let left = tapsLeft(linkList(shell.name, await firstLook.go()), macs);
        for (let attempt = 1; attempt < 50 && left.length > 0; attempt++) {
          await sleep(50);
          left = tapsLeft(linkList(shell.name, await run(shell, ['ip', '-o', 'link'])), macs);
        }
        if (left.length > 0)
          throw new Error(`tap devices of the VM remain on the source: ${left.join(', ')}`);
        return {};
      } finally {
        firstLook?.cancel();
      }
    },
    async undo(ctx) {
      if ((await sourcePresence(ctx)) !== 'shutoff') return;
      await refuseWhileActiveOnTarget(ctx, 'starting');
      await (await ctx.source()).createDomain(ctx.domain);
    },
  };
}

/** `ip -o link`'s output; a failed `ip` must not read as "no taps left". */
function linkList(host: string, result: ExecResult<string | Buffer>): string {
  if (result.code !== 0)
    throw new Error(`ip -o link on ${host} exited ${result.code ?? result.signal}: ${result.stderr.trim()}`);
  return result.stdout.toString();
}

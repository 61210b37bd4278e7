import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecResult } from '../../host/ssh-connection.js';
import { mirrorProgress } from '../../sync/block-copy.js';
import { run } from '../../sync/remote.js';
import { waitForPidArgv } from '../../sync/remote-process.js';
import { refuseWhileActiveOnTarget, sourcePresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { mirroredDisks } from '../types.js';
import { guestMacs, tapsLeft } from './nic-xml.js';
import { QEMU_EXIT_WAIT_MS, type SourceQemu, untilLibvirtStoppedSource } from './source-qemu.js';
import type { MarkMilestone } from './timeline.js';

/**
 * The point where the source stops: only after the mirror ended converged while paused. Ends as soon as the source's
 * QEMU has exited (seen on the host) or libvirt's destroy returned, whichever comes first; source-stopped waits for
 * the rest of libvirt's stop.
 */
export function destroySource(mark: MarkMilestone, qemu: SourceQemu): Step {
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
      const client = await ctx.source();
      const libvirtStopped = client.destroyDomain(ctx.domain).then(() => mark(ctx, 'sourceStopped'));
      // Awaited below, or by source-stopped when the exit was seen first.
      libvirtStopped.catch(() => undefined);
      qemu.libvirtStopped = libvirtStopped;
      // Exit 0 of the wait: no QEMU of that pid runs. Anything else (a zombie not reaped yet, a timeout, a lost
      // connection) leaves it to libvirt's answer.
      const exitSeen =
        qemu.pid === undefined
          ? libvirtStopped
          : run(await ctx.hosts.ssh(ctx.record.sourceHost), waitForPidArgv(qemu.pid), QEMU_EXIT_WAIT_MS).then(
              (result) => (result.code === 0 ? undefined : libvirtStopped),
              () => libvirtStopped,
            );
      await Promise.race([libvirtStopped, exitSeen]);
      qemu.exited = true;
      await mark(ctx, 'sourceQemuExited');
      return {};
    },
    async undo(ctx) {
      if ((await sourcePresence(ctx)) !== 'shutoff') return;
      await refuseWhileActiveOnTarget(ctx, 'starting');
      await (await ctx.source()).createDomain(ctx.domain);
    },
  };
}

/**
 * libvirt has stopped the source: its destroy returned, the domain is shut off, and no tap of the guest's NICs is
 * left on the host. Runs beside start-target: with the QEMU gone, nothing of the guest is left to send on them.
 */
export function sourceStopped(qemu: SourceQemu): Step {
  return {
    name: 'source-stopped',
    async check(ctx) {
      // This run's destroy (see carry-firmware): run waits for it, then looks.
      if (qemu.libvirtStopped) return ok;
      const presence = await sourcePresence(ctx);
      if (presence !== 'shutoff' && presence !== 'missing')
        return blocked(`the VM is ${presence} on the source`);
      if (guestMacs(ctx.job.inactiveXml).length === 0) return skip('shut off; the VM has no NIC');
      return ok;
    },
    async run(ctx) {
      await untilLibvirtStoppedSource(ctx, qemu);
      const macs = guestMacs(ctx.job.inactiveXml);
      if (macs.length === 0) return {};
      const shell = await ctx.hosts.ssh(ctx.record.sourceHost);
      let left = tapsLeft(linkList(shell.name, await run(shell, ['ip', '-o', 'link'])), macs);
      for (let attempt = 1; attempt < 50 && left.length > 0; attempt++) {
        await sleep(50);
        left = tapsLeft(linkList(shell.name, await run(shell, ['ip', '-o', 'link'])), macs);
      }
      if (left.length > 0) throw new Error(`tap devices of the VM remain on the source: ${left.join(', ')}`);
      return {};
    },
  };
}

/** `ip -o link`'s output; a failed `ip` must not read as "no taps left". */
function linkList(host: string, result: ExecResult<string | Buffer>): string {
  if (result.code !== 0)
    throw new Error(`ip -o link on ${host} exited ${result.code ?? result.signal}: ${result.stderr.trim()}`);
  return result.stdout.toString();
}

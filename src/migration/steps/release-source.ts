import { retainedDisks } from '../../disks/retention.js';
import { LibvirtError } from '../../libvirt/errors.js';
import { UndefineFlags } from '../../libvirt/protocol/constants.js';
import { run } from '../../sync/remote.js';
import { isActive, sourcePresence } from '../engine/presence.js';
import { ok, type Step } from '../engine/step.js';

/** Done: the source definition goes; its disks stay for the retention time. */
export const releaseSource: Step = {
  name: 'release-source',
  async check() {
    return ok;
  },
  async run(ctx) {
    const client = await ctx.source();
    const presence = await sourcePresence(ctx);
    if (isActive(presence)) throw new Error(`the VM is ${presence} on the source`);
    if (presence === 'shutoff') {
      // A carried NVRAM and vTPM state stay on the source like its disks (libvirt would delete the TPM state).
      const keep = ctx.job.firmware ? UndefineFlags.keepNvram | UndefineFlags.keepTpm : UndefineFlags.none;
      await client.undefineDomain(ctx.domain, keep).catch(async (err) => {
        if (!(err instanceof LibvirtError)) throw err;
        await client.undefineDomain(ctx.domain, keep | UndefineFlags.keepNvram);
      });
    }
    const until = new Date(Date.now() + ctx.settings.retentionHours * 3600_000).toISOString();
    const retained = {
      host: ctx.record.sourceHost,
      paths: ctx.job.disks.map((d) => d.sourcePath),
      // What each copied disk is, and whether retention may ever remove it (read-only media: never).
      disks: retainedDisks(ctx.job.disks),
      until,
    };
    const shell = await ctx.hosts.ssh(ctx.record.targetHost);
    for (const nbd of ctx.job.exports) await run(shell, ['rm', '-f', nbd.pidFile]);
    await ctx.patchJob({ retained });
    await ctx.moveTo('done', { lastError: null });
    return { retainedUntil: until };
  },
};

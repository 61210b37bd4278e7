import { LibvirtError } from '../../libvirt/errors.js';
import { UndefineFlags } from '../../libvirt/protocol/constants.js';
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
      await client.undefineDomain(ctx.domain, UndefineFlags.none).catch(async (err) => {
        if (!(err instanceof LibvirtError)) throw err;
        await client.undefineDomain(ctx.domain, UndefineFlags.keepNvram);
      });
    }
    const until = new Date(Date.now() + ctx.settings.retentionHours * 3600_000).toISOString();
    const retained = { host: ctx.record.sourceHost, paths: ctx.job.disks.map((d) => d.sourcePath), until };
    const shell = await ctx.hosts.ssh(ctx.record.targetHost);
    for (const nbd of ctx.job.exports) await shell.exec(['rm', '-f', nbd.pidFile]);
    await ctx.patchJob({ retained });
    await ctx.moveTo('done', { lastError: null });
    return { retainedUntil: until };
  },
};

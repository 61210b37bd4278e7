import { DomainXml } from '../../libvirt/domain-xml.js';
import { isNoDomain } from '../../libvirt/errors.js';
import { UndefineFlags } from '../../libvirt/protocol/constants.js';
import type { MigrationContext } from '../engine/context.js';
import { domainPresence, isActive } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { firmwareStatePaths } from './carry-firmware.js';
import type { MarkMilestone } from './timeline.js';

/** The source's inactive definition, its local disks repointed at the copies, host-specific bits dropped. */
export function defineTarget(mark: MarkMilestone): Step {
  return {
    name: 'define-target',
    async check(ctx) {
      if (!ctx.job.inactiveXml) return blocked('no inactive XML was kept when arming');
      const client = await ctx.targetClient();
      if ((await domainPresence(client, ctx.domain)) !== 'missing') return skip('defined on the target');
      try {
        const other = await client.lookupDomainByName(ctx.record.vmName);
        return blocked(`the target has another domain named ${ctx.record.vmName} (UUID ${other.uuid})`);
      } catch (err) {
        if (isNoDomain(err)) return ok;
        throw err;
      }
    },
    async run(ctx) {
      const xml = targetDefinition(ctx);
      const dropped = xml.dropHostSpecific();
      await (await ctx.targetClient()).defineDomainXml(xml.toString());
      await mark(ctx, 'defined');
      return { dropped: dropped.map((item) => item.what) };
    },
    async undo(ctx) {
      const client = await ctx.targetClient();
      const presence = await domainPresence(client, ctx.domain);
      if (presence === 'missing') return;
      if (isActive(presence)) throw new Error(`the VM is ${presence} on ${ctx.record.targetHost}`);
      // keepNvram: libvirt refuses a plain undefine of a UEFI guest; carry-firmware's undo removes the copies.
      await client.undefineDomain(ctx.domain, UndefineFlags.keepNvram);
    },
  };
}

function targetDefinition(ctx: MigrationContext): DomainXml {
  const xml = DomainXml.parse(ctx.job.inactiveXml as string);
  for (const nbd of ctx.job.exports) {
    const into = ctx.job.disks.find((disk) => disk.target === nbd.disk)?.into;
    // A pool volume was created under the same pool and name: the definition keeps naming it.
    if (into?.kind === 'volume' && into.definition === 'keep') continue;
    // A volume of a logical pool is a block device; one of a dir pool is a file.
    const as = into?.kind === 'volume' && nbd.imagePath.startsWith('/dev/') ? 'block' : 'file';
    xml.repointDisk(nbd.disk, nbd.imagePath, { format: nbd.format, as });
  }
  for (const dev of ctx.job.ejected ?? []) xml.ejectMedia(dev);
  // The NVRAM is carried to the same path, beside this step (see cutoverSteps): the definition names it already.
  const { nvram } = firmwareStatePaths(ctx.job.inactiveXml as string, ctx.record.vmUuid);
  if (nvram) xml.setNvram(nvram);
  return xml;
}

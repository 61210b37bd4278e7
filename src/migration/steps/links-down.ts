import { DomainAffect, DomainXmlFlags } from '../../libvirt/protocol/constants.js';
import { isActive, sourcePresence } from '../engine/presence.js';
import { blocked, ok, type Step, skip } from '../engine/step.js';
import { guestMacs, interfaceWithLink } from './nic-xml.js';

/** The source's NICs lose their link while paused, so that the guest's MACs are heard from the target only. */
export const linksDown: Step = {
  name: 'links-down',
  async check(ctx) {
    const presence = await sourcePresence(ctx);
    if (presence === 'shutoff' || presence === 'missing') return skip('the source is not running');
    if (presence !== 'paused') return blocked(`the guest must be paused, it is ${presence}`);
    return ok;
  },
  async run(ctx) {
    const client = await ctx.source();
    const live = await client.getDomainXml(ctx.domain, DomainXmlFlags.none);
    // A link already down stays the owner's (no change to send): the undo never brings it up.
    const changes = guestMacs(ctx.job.inactiveXml).flatMap((mac) => {
      const xml = interfaceWithLink(live, mac, 'down');
      return xml ? [{ mac, xml }] : [];
    });
    const down = changes.map((change) => change.mac);
    // Journaled before any link goes down: a crash right after a change must not leave it down after a rollback (the
    // undo brings up each of these; one still up needs nothing).
    await ctx.patchJob({ linksDown: down });
    for (const { xml } of changes) await client.updateDevice(ctx.domain, xml, DomainAffect.live);
    return { linksDown: down };
  },
  async undo(ctx) {
    const macs = ctx.job.linksDown ?? [];
    if (macs.length === 0 || !isActive(await sourcePresence(ctx))) return;
    const client = await ctx.source();
    const live = await client.getDomainXml(ctx.domain, DomainXmlFlags.none);
    for (const mac of macs) {
      const xml = interfaceWithLink(live, mac, 'up');
      if (xml) await client.updateDevice(ctx.domain, xml, DomainAffect.live);
    }
    await ctx.patchJob({ linksDown: [] });
  },
};

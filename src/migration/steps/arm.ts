import { DomainXmlFlags } from '../../libvirt/protocol/constants.js';
import { ok, type Step } from '../engine/step.js';

/** Keeps the source's inactive definition: the target's is made from it at the cutover. */
export const arm: Step = {
  name: 'arm',
  async check() {
    return ok;
  },
  async run(ctx) {
    const client = await ctx.source();
    const inactiveXml = await client.getDomainXml(ctx.domain, DomainXmlFlags.inactive);
    await ctx.patchJob({ inactiveXml });
    await ctx.moveTo('armed');
    return {};
  },
};

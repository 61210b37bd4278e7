import { DomainXml } from '../../libvirt/domain-xml.js';
import {
  NetworkUpdateCommand,
  NetworkUpdateFlags,
  NetworkUpdateSection,
  NetworkXmlFlags,
} from '../../libvirt/protocol/constants.js';
import type { MigrationContext } from '../engine/context.js';
import { ok, type Step, skip } from '../engine/step.js';
import { dhcpHostEntry } from './nic-xml.js';

const BOTH = NetworkUpdateFlags.live | NetworkUpdateFlags.config;

/** For NICs on libvirt networks: the network's DHCP host entry follows the guest. */
export const moveDhcp: Step = {
  name: 'move-dhcp',
  async check(ctx) {
    const nics = DomainXml.parse(ctx.job.inactiveXml ?? '<domain/>').nics.filter(
      (nic) => nic.source.network && nic.mac,
    );
    if (nics.length === 0) return skip('no NIC on a libvirt network');
    if ((ctx.job.dhcpMoved ?? []).length > 0) return skip('already moved');
    return ok;
  },
  async run(ctx) {
    const source = await ctx.source();
    const target = await ctx.targetClient();
    const moved: { network: string; hostXml: string }[] = [];
    for (const nic of DomainXml.parse(ctx.job.inactiveXml as string).nics) {
      if (!nic.source.network || !nic.mac) continue;
      const network = await source.lookupNetworkByName(nic.source.network);
      const hostXml = dhcpHostEntry(await source.getNetworkXml(network, NetworkXmlFlags.inactive), nic.mac);
      if (!hostXml) continue;
      const there = await target.lookupNetworkByName(nic.source.network);
      await target.updateNetwork(
        there,
        NetworkUpdateCommand.addLast,
        NetworkUpdateSection.ipDhcpHost,
        hostXml,
        BOTH,
      );
      await source.updateNetwork(
        network,
        NetworkUpdateCommand.delete,
        NetworkUpdateSection.ipDhcpHost,
        hostXml,
        BOTH,
      );
      moved.push({ network: nic.source.network, hostXml });
    }
    await ctx.patchJob({ dhcpMoved: moved });
    return { moved: moved.length };
  },
  /** Best effort: an entry that will not move back is audited, and the rollback goes on. */
  async undo(ctx) {
    for (const { network, hostXml } of ctx.job.dhcpMoved ?? []) {
      const source = await ctx.source();
      const target = await ctx.targetClient();
      await target
        .updateNetwork(
          await target.lookupNetworkByName(network),
          NetworkUpdateCommand.delete,
          NetworkUpdateSection.ipDhcpHost,
          hostXml,
          BOTH,
        )
        .catch((err) => auditLeftBehind(ctx, 'removing it from the target', network, hostXml, err));
      await source
        .updateNetwork(
          await source.lookupNetworkByName(network),
          NetworkUpdateCommand.addLast,
          NetworkUpdateSection.ipDhcpHost,
          hostXml,
          BOTH,
        )
        .catch((err) => auditLeftBehind(ctx, 'adding it back on the source', network, hostXml, err));
    }
    await ctx.patchJob({ dhcpMoved: [] });
  },
};

function auditLeftBehind(
  ctx: MigrationContext,
  what: string,
  network: string,
  hostXml: string,
  err: unknown,
): Promise<void> {
  return ctx.audit('undo:move-dhcp', 'error', {
    network,
    hostXml,
    error: `${what} failed: ${(err as Error).message}`,
  });
}

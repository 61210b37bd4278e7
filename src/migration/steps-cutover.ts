import { DomainXml } from '../libvirt/domain-xml.js';
import { isNoDomain, LibvirtError } from '../libvirt/errors.js';
import {
  DomainAffect,
  NetworkUpdateCommand,
  NetworkUpdateFlags,
  NetworkUpdateSection,
  UndefineFlags,
} from '../libvirt/protocol/constants.js';
import { endMirrorWithoutPivot, mirrorProgress, sumProgress } from '../sync/block-copy.js';
import { closeExport, observeExport } from '../sync/nbd-export.js';
import type { MigrationContext } from './context.js';
import { dhcpHostEntry, interfaceWithLink, tapsLeft } from './nic-xml.js';
import { domainPresence, isActive } from './observe.js';
import { blocked, ok, type Step, skip } from './step.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sourcePresence(ctx: MigrationContext) {
  return domainPresence(await ctx.source(), ctx.record.vmUuid);
}

async function targetPresence(ctx: MigrationContext) {
  return domainPresence(await ctx.targetClient(), ctx.record.vmUuid);
}

function nicMacs(ctx: MigrationContext): string[] {
  const xml = ctx.job.inactiveXml;
  if (!xml) return [];
  return DomainXml.parse(xml)
    .nics.map((nic) => nic.mac)
    .filter((mac): mac is string => Boolean(mac));
}

function mark(ctx: MigrationContext, milestone: string, since: number | undefined): Record<string, number> {
  return since === undefined ? {} : { ...ctx.job.timeline, [milestone]: Date.now() - since };
}

/** Options of one cutover run: when the reboot event came (for the timeline). */
export interface CutoverRun {
  eventAt?: number;
}

export function cutoverSteps(run: CutoverRun = {}): Step[] {
  const timeline = async (ctx: MigrationContext, milestone: string) => {
    if (run.eventAt !== undefined) await ctx.patchJob({ timeline: mark(ctx, milestone, run.eventAt) });
  };

  /** Normally already done by whoever caught the reboot event; here it is made sure of. */
  const pause: Step = {
    name: 'pause',
    enter: 'cutover',
    async check(ctx) {
      const presence = await sourcePresence(ctx);
      if (presence === 'paused') return skip('the guest is paused');
      if (ctx.job.converged && (presence === 'shutoff' || presence === 'missing')) {
        return skip('past the pause: the source stopped after converging');
      }
      if (presence === 'running') return ok;
      return blocked(`the VM is ${presence} on ${ctx.record.sourceHost}`);
    },
    async run(ctx) {
      await (await ctx.source()).suspendDomain(ctx.domain);
      return {};
    },
    async undo(ctx) {
      if ((await sourcePresence(ctx)) !== 'paused') return;
      const target = await targetPresence(ctx);
      if (isActive(target))
        throw new Error(`the VM is ${target} on ${ctx.record.targetHost}: not resuming the source`);
      await (await ctx.source()).resumeDomain(ctx.domain);
    },
  };

  /** While paused: wait for no dirty data, then end each job without pivot. */
  const converge: Step = {
    name: 'converge',
    async check(ctx) {
      const presence = await sourcePresence(ctx);
      if (ctx.job.converged && presence !== 'running') return skip('the mirror already ended converged');
      if (presence !== 'paused') return blocked(`the guest must be paused to converge, it is ${presence}`);
      return ok;
    },
    async run(ctx) {
      const client = await ctx.source();
      const until = Date.now() + ctx.settings.convergeTimeoutMs;
      for (;;) {
        const progress = await Promise.all(
          ctx.job.disks.map((d) => mirrorProgress(client, ctx.domain, d.target)),
        );
        const lost = progress.find((p) => !p.present);
        if (lost) throw new Error(`the block job of ${lost.disk} is gone: the target copy is not complete`);
        if (sumProgress(progress).converged) break;
        if (Date.now() > until) throw new Error('the mirror did not converge in time');
        await sleep(20);
      }
      for (const disk of ctx.job.disks) await endMirrorWithoutPivot(client, ctx.domain, disk.target);
      if ((await sourcePresence(ctx)) !== 'paused')
        throw new Error('the guest left the paused state while converging');
      await ctx.patchJob({ converged: true });
      await timeline(ctx, 'converged');
      return {};
    },
  };

  const linksDown: Step = {
    name: 'links-down',
    async check(ctx) {
      const presence = await sourcePresence(ctx);
      if (presence === 'shutoff' || presence === 'missing') return skip('the source is not running');
      if (presence !== 'paused') return blocked(`the guest must be paused, it is ${presence}`);
      return ok;
    },
    async run(ctx) {
      const client = await ctx.source();
      const live = await client.getDomainXml(ctx.domain, 0);
      const down: string[] = [];
      for (const mac of nicMacs(ctx)) {
        const xml = interfaceWithLink(live, mac, 'down');
        if (!xml) continue;
        await client.updateDevice(ctx.domain, xml, DomainAffect.live);
        down.push(mac);
      }
      await ctx.patchJob({ linksDown: down });
      return { linksDown: down };
    },
    async undo(ctx) {
      const macs = ctx.job.linksDown ?? [];
      if (macs.length === 0 || !isActive(await sourcePresence(ctx))) return;
      const client = await ctx.source();
      const live = await client.getDomainXml(ctx.domain, 0);
      for (const mac of macs) {
        const xml = interfaceWithLink(live, mac, 'up');
        if (xml) await client.updateDevice(ctx.domain, xml, DomainAffect.live);
      }
      await ctx.patchJob({ linksDown: [] });
    },
  };

  /** The point where the source stops: only after the mirror ended converged while paused. */
  const destroySource: Step = {
    name: 'destroy-source',
    async check(ctx) {
      const presence = await sourcePresence(ctx);
      if (presence === 'shutoff') return skip('the source is shut off');
      if (presence !== 'paused') return blocked(`the guest must be paused, it is ${presence}`);
      if (!ctx.job.converged) return blocked('the mirror has not ended converged');
      const client = await ctx.source();
      for (const disk of ctx.job.disks) {
        if ((await mirrorProgress(client, ctx.domain, disk.target)).present)
          return blocked(`${disk.target} still has a job`);
      }
      return ok;
    },
    async run(ctx) {
      await (await ctx.source()).destroyDomain(ctx.domain);
      await timeline(ctx, 'sourceStopped');
      const shell = await ctx.hosts.ssh(ctx.record.sourceHost);
      const macs = nicMacs(ctx);
      let left: string[] = [];
      for (let attempt = 0; attempt < 50; attempt++) {
        left = tapsLeft((await shell.exec(['ip', '-o', 'link'])).stdout, macs);
        if (left.length === 0) break;
        await sleep(50);
      }
      if (left.length > 0) throw new Error(`tap devices of the VM remain on the source: ${left.join(', ')}`);
      return {};
    },
    async undo(ctx) {
      if ((await sourcePresence(ctx)) !== 'shutoff') return;
      const target = await targetPresence(ctx);
      if (isActive(target))
        throw new Error(`the VM is ${target} on ${ctx.record.targetHost}: not starting the source`);
      await (await ctx.source()).createDomain(ctx.domain);
    },
  };

  const closeExports: Step = {
    name: 'close-export',
    enter: 'switching',
    async check(ctx) {
      const shell = await ctx.hosts.ssh(ctx.record.targetHost);
      for (const nbd of ctx.job.exports) if ((await observeExport(shell, nbd)) === 'alive') return ok;
      return skip('no export is alive');
    },
    async run(ctx) {
      const shell = await ctx.hosts.ssh(ctx.record.targetHost);
      for (const nbd of ctx.job.exports) await closeExport(shell, nbd);
      await timeline(ctx, 'exportClosed');
      return {};
    },
  };

  const defineTarget: Step = {
    name: 'define-target',
    async check(ctx) {
      if (!ctx.job.inactiveXml) return blocked('no inactive XML was kept when arming');
      const client = await ctx.targetClient();
      if ((await domainPresence(client, ctx.record.vmUuid)) !== 'missing')
        return skip('defined on the target');
      try {
        const other = await client.lookupDomainByName(ctx.record.vmName);
        return blocked(`the target has another domain named ${ctx.record.vmName} (UUID ${other.uuid})`);
      } catch (err) {
        if (isNoDomain(err)) return ok;
        throw err;
      }
    },
    async run(ctx) {
      const xml = DomainXml.parse(ctx.job.inactiveXml as string);
      for (const nbd of ctx.job.exports) xml.repointDisk(nbd.disk, nbd.imagePath, { format: nbd.format });
      const dropped = xml.dropHostSpecific();
      await (await ctx.targetClient()).defineDomainXml(xml.toString());
      await timeline(ctx, 'defined');
      return { dropped: dropped.map((item) => item.what) };
    },
    async undo(ctx) {
      const client = await ctx.targetClient();
      const presence = await domainPresence(client, ctx.record.vmUuid);
      if (presence === 'missing') return;
      if (isActive(presence)) throw new Error(`the VM is ${presence} on ${ctx.record.targetHost}`);
      await client.undefineDomain(ctx.domain, 0);
    },
  };

  /** For NICs on libvirt networks: the network's DHCP host entry follows the guest. */
  const moveDhcp: Step = {
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
        const hostXml = dhcpHostEntry(await source.getNetworkXml(network, 1), nic.mac);
        if (!hostXml) continue;
        const flags = NetworkUpdateFlags.live | NetworkUpdateFlags.config;
        const there = await target.lookupNetworkByName(nic.source.network);
        await target.updateNetwork(
          there,
          NetworkUpdateCommand.addLast,
          NetworkUpdateSection.ipDhcpHost,
          hostXml,
          flags,
        );
        await source.updateNetwork(
          network,
          NetworkUpdateCommand.delete,
          NetworkUpdateSection.ipDhcpHost,
          hostXml,
          flags,
        );
        moved.push({ network: nic.source.network, hostXml });
      }
      await ctx.patchJob({ dhcpMoved: moved });
      return { moved: moved.length };
    },
    async undo(ctx) {
      const flags = NetworkUpdateFlags.live | NetworkUpdateFlags.config;
      for (const { network, hostXml } of ctx.job.dhcpMoved ?? []) {
        const source = await ctx.source();
        const target = await ctx.targetClient();
        await target
          .updateNetwork(
            await target.lookupNetworkByName(network),
            NetworkUpdateCommand.delete,
            NetworkUpdateSection.ipDhcpHost,
            hostXml,
            flags,
          )
          .catch(() => undefined);
        await source
          .updateNetwork(
            await source.lookupNetworkByName(network),
            NetworkUpdateCommand.addLast,
            NetworkUpdateSection.ipDhcpHost,
            hostXml,
            flags,
          )
          .catch(() => undefined);
      }
      await ctx.patchJob({ dhcpMoved: [] });
    },
  };

  /** Never two copies: the target starts only while the source has no QEMU. */
  const startTarget: Step = {
    name: 'start-target',
    async check(ctx) {
      const target = await targetPresence(ctx);
      if (target === 'running') return skip('running on the target');
      const source = await sourcePresence(ctx);
      if (source !== 'shutoff' && source !== 'missing') return blocked(`the VM is ${source} on the source`);
      if (!ctx.job.converged) return blocked('the mirror never ended converged');
      return ok;
    },
    async run(ctx) {
      await (await ctx.targetClient()).createDomain(ctx.domain);
      await timeline(ctx, 'started');
      return {};
    },
  };

  const verify: Step = {
    name: 'verify',
    enter: 'verifying',
    async check() {
      return ok;
    },
    async run(ctx) {
      for (let i = 0; i < 5; i++) {
        const presence = await targetPresence(ctx);
        if (presence !== 'running') throw new Error(`the VM is ${presence} on ${ctx.record.targetHost}`);
        await sleep(100);
      }
      return {};
    },
  };

  /** Done: the source definition goes; its disks stay for the retention time. */
  const releaseSource: Step = {
    name: 'release-source',
    async check() {
      return ok;
    },
    async run(ctx) {
      const client = await ctx.source();
      const presence = await sourcePresence(ctx);
      if (isActive(presence)) throw new Error(`the VM is ${presence} on the source`);
      if (presence === 'shutoff') {
        await client.undefineDomain(ctx.domain, 0).catch(async (err) => {
          if (!(err instanceof LibvirtError)) throw err;
          await client.undefineDomain(ctx.domain, UndefineFlags.keepNvram);
        });
      }
      const until = new Date(Date.now() + ctx.settings.retentionHours * 3600_000).toISOString();
      const retained = { host: ctx.record.sourceHost, paths: ctx.job.disks.map((d) => d.sourcePath), until };
      const shell = await ctx.hosts.ssh(ctx.record.targetHost);
      for (const nbd of ctx.job.exports) await shell.exec(['rm', '-f', nbd.pidFile]);
      await ctx.patchJob({ retained });
      await ctx.moveTo('done', { export: null, lastError: null });
      return { retainedUntil: until };
    },
  };

  return [
    pause,
    converge,
    linksDown,
    destroySource,
    closeExports,
    defineTarget,
    moveDhcp,
    startTarget,
    verify,
    releaseSource,
  ];
}

/** Names of the cutover steps, in order (for REHOME_FAULT_HOLD_BEFORE and the docs). */
export const CUTOVER_STEP_NAMES = cutoverSteps().map((step) => step.name);

/** Steps after which a failure no longer rolls back: the target has run. */
export const POINT_OF_NO_RETURN = 'start-target';

/** Every domain of one host: one stats call for state and disk sizes, then all XMLs at once over the connection. */
import { readDiskFacts } from '../disks/facts.js';
import { type DiskDecision, type DiskPolicyOptions, decideDisks, diskClassOf } from '../disks/policy.js';
import type { LibvirtClient } from '../libvirt/client.js';
import { type DiskInfo, DomainXml } from '../libvirt/domain-xml.js';
import { isNoDomain } from '../libvirt/errors.js';
import { DomainStatsTypes, ListAllDomainsFlags } from '../libvirt/protocol/constants.js';
import type { DomainRef } from '../libvirt/protocol/types.js';
import { type BlockStats, type DomainStats, parseDomainStats } from './domain-stats.js';
import type { DiskFactsReport, DomainFacts } from './types.js';

export interface ReadDomainsOptions {
  sharedPrefixes?: readonly string[];
  /** The disk policy's options; `{ sharedPrefixes }` when absent. */
  diskPolicy?: DiskPolicyOptions;
}

export async function readDomains(
  libvirt: LibvirtClient,
  options: ReadDomainsOptions = {},
): Promise<DomainFacts[]> {
  const [records, transient] = await Promise.all([
    libvirt.getAllDomainStats(DomainStatsTypes.state | DomainStatsTypes.block),
    libvirt.listAllDomains(ListAllDomainsFlags.transient),
  ]);
  const transientUuids = new Set(transient.map((domain) => domain.uuid));
  const domains = await Promise.all(
    records.map((record) =>
      readDomain(libvirt, record.domain, parseDomainStats(record), {
        persistent: !transientUuids.has(record.domain.uuid),
        diskPolicy: options.diskPolicy ?? { sharedPrefixes: options.sharedPrefixes ?? [] },
      }).catch((err: unknown) => {
        // Undefined between the stats and the XML call: it is no longer there to report.
        if (isNoDomain(err)) return undefined;
        throw err;
      }),
    ),
  );
  return domains
    .filter((domain): domain is DomainFacts => domain !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function readDomain(
  libvirt: LibvirtClient,
  ref: DomainRef,
  stats: DomainStats,
  context: { persistent: boolean; diskPolicy: DiskPolicyOptions },
): Promise<DomainFacts> {
  const xml = DomainXml.parse(await libvirt.getDomainXml(ref));
  const warnings: string[] = [];
  const infos = xml.disks;
  const decisions = decideDisks(
    xml.name || ref.name,
    infos,
    context.diskPolicy,
    await readDiskFacts(libvirt, infos),
  );
  const disks = await Promise.all(
    infos.map((disk, index) =>
      diskFacts(
        libvirt,
        ref,
        disk,
        decisions[index] as DiskDecision,
        stats.blocks.get(disk.targetDev),
        warnings,
      ),
    ),
  );
  const facts: DomainFacts = {
    name: xml.name || ref.name,
    uuid: xml.uuid || ref.uuid,
    state: stats.state,
    persistent: context.persistent,
    vcpus: xml.vcpus,
    memoryKiB: xml.memoryKiB,
    cpu: xml.cpu,
    nics: xml.nics,
    disks,
    hostdevs: xml.hostdevs.map((hostdev) => hostdev.source),
    firmware: xml.firmware,
    warnings,
  };
  const owner = xml.owner;
  if (owner !== undefined) facts.owner = owner;
  return facts;
}

async function diskFacts(
  libvirt: LibvirtClient,
  ref: DomainRef,
  disk: DiskInfo,
  decision: DiskDecision,
  stats: BlockStats | undefined,
  warnings: string[],
): Promise<DiskFactsReport> {
  const report: DiskFactsReport = {
    target: disk.targetDev,
    device: disk.device,
    type: disk.type,
    source: decision.source,
    class: diskClassOf(decision.action),
    reason: decision.reason,
    action: decision.action,
    code: decision.code,
    readonly: disk.readonly,
    shareable: disk.shareable,
  };
  if (disk.driverType) report.driverType = disk.driverType;
  if (decision.copy?.into.kind === 'volume') {
    report.intoVolume = { pool: decision.copy.into.pool, name: decision.copy.into.name };
  }
  if (decision.action !== 'copy') return report;
  let capacity = stats?.capacity;
  let allocation = stats?.allocation;
  if (capacity === undefined) {
    // The stats leave out what libvirt could not read cheaply; ask for this one disk.
    try {
      const info = await libvirt.getBlockInfo(ref, disk.targetDev);
      capacity = Number(info.capacity);
      allocation = Number(info.allocation);
    } catch (err) {
      warnings.push(`size of disk ${disk.targetDev} unknown: ${(err as Error).message}`);
    }
  }
  if (capacity !== undefined) report.virtualSizeBytes = capacity;
  if (allocation !== undefined) report.allocatedBytes = allocation;
  return report;
}

/** Every domain of one host: one stats call for state and disk sizes, then all XMLs at once over the connection. */
import type { LibvirtClient } from '../libvirt/client.js';
import { type ClassifiedDisk, DomainXml } from '../libvirt/domain-xml.js';
import { isNoDomain } from '../libvirt/errors.js';
import { DomainStatsTypes, ListAllDomainsFlags } from '../libvirt/protocol/constants.js';
import type { DomainRef } from '../libvirt/protocol/types.js';
import { type BlockStats, type DomainStats, parseDomainStats } from './domain-stats.js';
import type { DiskFactsReport, DomainFacts } from './types.js';

export interface ReadDomainsOptions {
  sharedPrefixes?: readonly string[];
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
        sharedPrefixes: options.sharedPrefixes ?? [],
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
  context: { persistent: boolean; sharedPrefixes: readonly string[] },
): Promise<DomainFacts> {
  const xml = DomainXml.parse(await libvirt.getDomainXml(ref));
  const warnings: string[] = [];
  const disks = await Promise.all(
    xml
      .classifyDisks({ sharedPrefixes: context.sharedPrefixes })
      .map((disk) => diskFacts(libvirt, ref, disk, stats.blocks.get(disk.targetDev), warnings)),
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
    warnings,
  };
  const owner = xml.owner;
  if (owner !== undefined) facts.owner = owner;
  return facts;
}

async function diskFacts(
  libvirt: LibvirtClient,
  ref: DomainRef,
  disk: ClassifiedDisk,
  stats: BlockStats | undefined,
  warnings: string[],
): Promise<DiskFactsReport> {
  const report: DiskFactsReport = {
    target: disk.targetDev,
    device: disk.device,
    type: disk.type,
    source: describeSource(disk),
    class: disk.class,
    reason: disk.reason,
    readonly: disk.readonly,
    shareable: disk.shareable,
  };
  if (disk.driverType) report.driverType = disk.driverType;
  if (disk.class !== 'local') return report;
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

function describeSource(disk: ClassifiedDisk): string {
  if (disk.path) return disk.path;
  if (disk.type === 'network') {
    const host = disk.source.hosts[0];
    const where = host?.name ? `${host.name}${host.port ? `:${host.port}` : ''}` : (host?.socket ?? '');
    return `${disk.source.protocol ?? 'network'}://${where}${disk.source.name ? `/${disk.source.name}` : ''}`;
  }
  if (disk.type === 'volume') return `${disk.source.pool ?? ''}/${disk.source.volume ?? ''}`;
  return '';
}

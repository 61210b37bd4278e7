/** Plain-text tables for `rehome inventory` (no colour: it pipes and diffs well). */
import type { DomainFacts, HostFactsReport, Inventory } from '../../inventory/types.js';
import { formatBytes } from '../../placement/units.js';
import { table } from './table.js';

export function formatInventory(inventory: Inventory): string {
  const sections = [formatHosts(inventory)];
  const domains = formatDomains(inventory);
  if (domains) sections.push(domains);
  const notes = formatNotes(inventory);
  if (notes) sections.push(notes);
  return sections.join('\n\n');
}

function formatHosts(inventory: Inventory): string {
  const rows = [
    [
      'HOST',
      'STATUS',
      'CPU',
      'CORES',
      'MEMORY FREE/TOTAL',
      'IMAGE DIR FREE',
      'BRIDGES',
      'NETWORKS',
      'LIBVIRT',
      'QEMU',
    ],
  ];
  for (const host of inventory.hosts) {
    if (!host.ok) {
      rows.push([host.name, `error (${host.error.kind})`, host.error.message]);
      continue;
    }
    rows.push([
      host.name,
      'ok',
      [host.cpu.vendor, host.cpu.model].filter(Boolean).join(' ') || '?',
      String(host.cores),
      `${formatBytes(host.freeMemoryKiB * 1024)}/${formatBytes(host.memoryKiB * 1024)}`,
      host.imageDirFreeBytes === null ? '?' : formatBytes(host.imageDirFreeBytes),
      host.bridges.join(',') || '-',
      networksCell(host),
      host.libvirtVersion.text,
      host.qemuVersion.text,
    ]);
  }
  return table(rows);
}

function networksCell(host: HostFactsReport): string {
  if (host.networks.length === 0) return '-';
  return host.networks
    .map(
      (network) =>
        `${network.name}${network.active ? '' : '(inactive)'}${network.bridge ? `:${network.bridge}` : ''}`,
    )
    .join(',');
}

function formatDomains(inventory: Inventory): string | undefined {
  const rows = [['HOST', 'DOMAIN', 'STATE', 'VCPUS', 'MEMORY', 'CPU', 'DISKS', 'NICS', 'OWNER']];
  for (const host of inventory.hosts) {
    if (!host.ok) continue;
    for (const domain of host.domains) rows.push(domainRow(host.name, domain));
  }
  return rows.length > 1 ? table(rows) : undefined;
}

function domainRow(host: string, domain: DomainFacts): string[] {
  const disks = domain.disks.map((disk) => {
    const size = disk.virtualSizeBytes === undefined ? '' : ` ${formatBytes(disk.virtualSizeBytes)}`;
    const used = disk.allocatedBytes === undefined ? '' : `/${formatBytes(disk.allocatedBytes)} used`;
    return `${disk.target}:${disk.class}${size}${used}`;
  });
  const nics = domain.nics.map(
    (nic) => `${nic.mac ?? '?'}@${nic.source.bridge ?? nic.source.network ?? nic.source.dev ?? nic.type}`,
  );
  return [
    host,
    printable(domain.name),
    domain.state,
    String(domain.vcpus.current),
    formatBytes(domain.memoryKiB.max * 1024),
    [domain.cpu.mode, domain.cpu.model].filter(Boolean).join(' ') || 'default',
    disks.join(', ') || '-',
    nics.join(', ') || '-',
    domain.owner ? printable(domain.owner) : '-',
  ];
}

function formatNotes(inventory: Inventory): string | undefined {
  const lines: string[] = [];
  for (const host of inventory.hosts) {
    if (!host.ok) {
      for (const hint of host.error.hints) lines.push(`${host.name}: ${hint}`);
      continue;
    }
    for (const warning of host.warnings) lines.push(`${host.name}: ${warning}`);
    for (const domain of host.domains) {
      for (const warning of domain.warnings) lines.push(`${host.name}/${printable(domain.name)}: ${warning}`);
    }
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** Domain names may hold anything but "/": keep control characters out of the terminal. */
function printable(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced
  return value.replace(/[\u0000-\u001f\u007f]/g, '?');
}

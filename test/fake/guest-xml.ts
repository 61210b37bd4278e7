import { DOMParser, type Element, XMLSerializer } from '@xmldom/xmldom';

export interface GuestDisk {
  dev: string;
  path: string;
  virtualSize: number;
}

export interface GuestNic {
  mac: string;
  bridge?: string;
  network?: string;
}

export interface GuestSpec {
  name: string;
  uuid: string;
  disks: GuestDisk[];
  nics: GuestNic[];
  /** A UEFI guest: libvirt refuses a plain undefine while it has an NVRAM file. */
  nvram?: string;
  /** An emulated TPM (swtpm), its state under /var/lib/libvirt/swtpm/<uuid>/. */
  tpm?: boolean;
}

/** The inactive XML libvirt would hold for this guest. */
export function guestXml(spec: GuestSpec): string {
  const disks = spec.disks
    .map(
      (disk) =>
        `    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n` +
        `      <source file='${disk.path}'/>\n      <target dev='${disk.dev}' bus='virtio'/>\n    </disk>\n`,
    )
    .join('');
  const nics = spec.nics
    .map((nic) => {
      const source = nic.network
        ? `<source network='${nic.network}'/>`
        : `<source bridge='${nic.bridge ?? 'br0'}'/>`;
      const type = nic.network ? 'network' : 'bridge';
      return `    <interface type='${type}'>\n      <mac address='${nic.mac}'/>\n      ${source}\n      <model type='virtio'/>\n    </interface>\n`;
    })
    .join('');
  const loader = spec.nvram
    ? `    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>\n    <nvram>${spec.nvram}</nvram>\n`
    : '';
  const tpm = spec.tpm
    ? `    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n`
    : '';
  return (
    `<domain type='qemu'>\n  <name>${spec.name}</name>\n  <uuid>${spec.uuid}</uuid>\n` +
    `  <memory unit='KiB'>262144</memory>\n  <vcpu placement='static'>1</vcpu>\n` +
    `  <os>\n    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>\n${loader}  </os>\n` +
    `  <features>\n    <acpi/>\n  </features>\n  <on_reboot>restart</on_reboot>\n` +
    `  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n${disks}${nics}${tpm}  </devices>\n</domain>\n`
  );
}

function parse(xml: string): Element {
  return new DOMParser().parseFromString(xml, 'text/xml').documentElement as unknown as Element;
}

function childText(root: Element, tag: string): string {
  return root.getElementsByTagName(tag)[0]?.textContent?.trim() ?? '';
}

/** What the fake reads back from a domain XML it is given (define) or holds. */
export interface ParsedDomain {
  name: string;
  uuid: string;
  diskPaths: { dev: string; path: string }[];
  macs: string[];
  nvram: boolean;
  /** The `<nvram>` path, '' without one. */
  nvramPath: string;
  tpm: boolean;
}

export function readDomainXml(xml: string): ParsedDomain {
  const root = parse(xml);
  const diskPaths = Array.from(root.getElementsByTagName('disk')).map((disk) => ({
    dev: disk.getElementsByTagName('target')[0]?.getAttribute('dev') ?? '',
    path: disk.getElementsByTagName('source')[0]?.getAttribute('file') ?? '',
  }));
  const macs = Array.from(root.getElementsByTagName('interface')).map(
    (nic) => nic.getElementsByTagName('mac')[0]?.getAttribute('address')?.toLowerCase() ?? '',
  );
  return {
    name: childText(root, 'name'),
    uuid: childText(root, 'uuid'),
    diskPaths,
    macs,
    nvram: root.getElementsByTagName('nvram').length > 0,
    nvramPath: childText(root, 'nvram'),
    tpm: Array.from(root.getElementsByTagName('backend')).some((b) => b.getAttribute('type') === 'emulator'),
  };
}

/** The live XML of a running domain: its runtime id, and each NIC's link state. */
export function liveXml(inactive: string, id: number, links: ReadonlyMap<string, 'up' | 'down'>): string {
  const document = new DOMParser().parseFromString(inactive, 'text/xml');
  const root = document.documentElement as unknown as Element;
  root.setAttribute('id', String(id));
  for (const nic of Array.from(root.getElementsByTagName('interface'))) {
    const mac = nic.getElementsByTagName('mac')[0]?.getAttribute('address')?.toLowerCase() ?? '';
    let link = nic.getElementsByTagName('link')[0];
    if (!link) {
      link = document.createElement('link') as unknown as Element;
      nic.appendChild(link);
    }
    link.setAttribute('state', links.get(mac) ?? 'up');
  }
  return new XMLSerializer().serializeToString(document);
}

/** The MAC and link state of an <interface> given to updateDevice. */
export function readInterfaceUpdate(xml: string): { mac: string; state: 'up' | 'down' } {
  const root = parse(xml);
  const mac = root.getElementsByTagName('mac')[0]?.getAttribute('address')?.toLowerCase() ?? '';
  const state = root.getElementsByTagName('link')[0]?.getAttribute('state') === 'down' ? 'down' : 'up';
  return { mac, state };
}

/** The NBD destination of a block copy: `<source protocol='nbd' name=…><host name=… port=…/>`. */
export function readNbdDestination(xml: string): { exportName: string; address: string; port: number } {
  const root = parse(xml);
  const source = root.getElementsByTagName('source')[0];
  const host = root.getElementsByTagName('host')[0];
  return {
    exportName: source?.getAttribute('name') ?? '',
    address: host?.getAttribute('name') ?? '',
    port: Number(host?.getAttribute('port')),
  };
}

/** The MAC of a DHCP `<host mac=… ip=…/>` entry. */
export function dhcpHostMac(xml: string): string {
  return parse(xml).getAttribute('mac')?.toLowerCase() ?? '';
}

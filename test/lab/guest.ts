import { createHash } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addDhcpHost, dhcpHosts } from './network.js';
import { GUEST_BOOT_DIR, GUEST_FIRST_OCTET, GUEST_IMAGE_DIR, GUEST_LAST_OCTET, hostRoot } from './paths.js';

export const MAC_PATTERN = /^52:54:00(:[0-9a-f]{2}){3}$/;
export const GUEST_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

/** A stable MAC for a guest name, in QEMU's 52:54:00 range. */
export function macForName(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  return `52:54:00:${[...digest.subarray(0, 3)].map((byte) => byte.toString(16).padStart(2, '0')).join(':')}`;
}

let leasing: Promise<unknown> = Promise.resolve();

/**
 * Static lease for the guest: kept if its MAC is known, otherwise the next free address. One at a time: guests booted
 * side by side (watch-replicas boots six) each read the hosts file before any wrote to it, took the same first free
 * address, and dnsmasq gave it to one of them; the other got no lease, and the agent that answered at "its" address,
 * and took its reboot, was the other guest's.
 */
export function leaseFor(name: string, mac: string): Promise<string> {
  const lease = leasing.then(() => assignLease(name, mac));
  leasing = lease.catch(() => undefined);
  return lease;
}

async function assignLease(name: string, mac: string): Promise<string> {
  const hosts = await dhcpHosts();
  const known = hosts.find((entry) => entry.mac === mac);
  if (known) {
    if (known.name !== name) throw new Error(`MAC ${mac} already belongs to guest ${known.name}`);
    return known.ip;
  }
  if (hosts.some((entry) => entry.name === name))
    throw new Error(`guest ${name} already has a lease with another MAC`);
  const used = new Set(hosts.map((entry) => entry.ip));
  for (let octet = GUEST_FIRST_OCTET; octet <= GUEST_LAST_OCTET; octet++) {
    const ip = `10.203.0.${octet}`;
    if (!used.has(ip)) {
      await addDhcpHost({ mac, ip, name });
      return ip;
    }
  }
  throw new Error('no free guest address left on 10.203.0.0/24');
}

export function guestDiskPath(name: string): string {
  return path.join(GUEST_IMAGE_DIR, `${name}.qcow2`);
}

/** The console log as the host sees it (inside its mount namespace). */
export function consoleLogInHost(name: string): string {
  return `/var/log/libvirt/qemu/${name}-console.log`;
}

/** The same console log, read from the root namespace through the host's private tree. */
export function consoleLogFromRoot(host: string, name: string): string {
  return path.join(hostRoot(host), consoleLogInHost(name));
}

/** What sets one lab guest kind apart inside the shared domain skeleton (labDomainXml). */
export interface LabDomainParts {
  memoryMiB: number;
  /** `<type>` and the boot lines inside `<os>`, each line indented by four spaces and ending with a newline. */
  os: string;
  /** Devices after the disk and NIC, before the memballoon, formatted like `os`. */
  extraDevices?: string;
}

/** A lab guest's domain: TCG, one vCPU, its disk, a NIC on br0 with its MAC, the console logged to a file. */
export function labDomainXml(name: string, mac: string, parts: LabDomainParts): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${parts.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
${parts.os}  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
${labGuestDevices(name, mac)}${parts.extraDevices ?? ''}    <memballoon model='none'/>
  </devices>
</domain>
`;
}

export function domainXml(name: string, mac: string): string {
  return labDomainXml(name, mac, {
    memoryMiB: 192,
    os: [
      "    <type arch='x86_64'>hvm</type>",
      `    <kernel>${GUEST_BOOT_DIR}/rehome-lab-vmlinuz</kernel>`,
      `    <initrd>${GUEST_BOOT_DIR}/rehome-lab-initrd.gz</initrd>`,
      '    <cmdline>console=ttyS0 loglevel=4</cmdline>',
      '',
    ].join('\n'),
  });
}

/** The devices every lab guest kind has: its disk, a NIC on br0 with its MAC, the serial console logged to a file. */
function labGuestDevices(name: string, mac: string): string {
  return `    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${guestDiskPath(name)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='${mac}'/>
      <source bridge='br0'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <log file='${consoleLogInHost(name)}' append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
`;
}

/** Puts the guest's disk (a copy of a blank one) and domain XML into the host's tree; returns the XML's path in the host. */
export async function stageGuest(
  host: string,
  name: string,
  mac: string,
  blankDisk: string,
): Promise<string> {
  const root = hostRoot(host);
  await mkdir(path.join(root, GUEST_IMAGE_DIR), { recursive: true });
  await cp(blankDisk, path.join(root, guestDiskPath(name)), { force: false, errorOnExist: true });
  const xmlInHost = `/var/lib/libvirt/rehome-lab/${name}.xml`;
  await mkdir(path.join(root, path.dirname(xmlInHost)), { recursive: true });
  await writeFile(path.join(root, xmlInHost), domainXml(name, mac));
  return xmlInHost;
}

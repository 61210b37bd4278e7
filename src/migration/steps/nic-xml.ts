import { type Element, XMLSerializer } from '@xmldom/xmldom';
import { libvirtXmlParser } from '../../libvirt/domain-xml/dom.js';
import { DomainXml } from '../../libvirt/domain-xml.js';

function elements(parent: Element, tag: string): Element[] {
  return Array.from(parent.getElementsByTagName(tag));
}

/**
 * The live <interface> of the NIC with this MAC, with its link set to `state` (what `virsh domif-setlink` sends to
 * updateDevice). Undefined when the domain has no such NIC, or its link already is `state` (a link without a state is
 * up).
 */
export function interfaceWithLink(liveXml: string, mac: string, state: 'up' | 'down'): string | undefined {
  const document = libvirtXmlParser().parseFromString(liveXml, 'text/xml');
  const devices = elements(document.documentElement as Element, 'devices')[0];
  if (!devices) return undefined;
  const nic = elements(devices, 'interface').find(
    (candidate) =>
      elements(candidate, 'mac')[0]?.getAttribute('address')?.toLowerCase() === mac.toLowerCase(),
  );
  if (!nic) return undefined;
  let link = elements(nic, 'link')[0];
  if ((link?.getAttribute('state') ?? 'up') === state) return undefined;
  if (!link) {
    link = document.createElement('link');
    nic.appendChild(link);
  }
  link.setAttribute('state', state);
  return new XMLSerializer().serializeToString(nic);
}

/** The MACs of the guest's NICs in a domain definition (none without one). */
export function guestMacs(domainXml: string | undefined): string[] {
  if (!domainXml) return [];
  return DomainXml.parse(domainXml)
    .nics.map((nic) => nic.mac)
    .filter((mac): mac is string => Boolean(mac));
}

/** libvirt gives a guest NIC's tap device the guest's MAC with the first byte set to 0xfe. */
export function tapMacFor(guestMac: string): string {
  return `fe${guestMac.toLowerCase().slice(2)}`;
}

/** Tap devices in `ip -o link` output that carry one of these guest MACs. */
export function tapsLeft(ipLinkOutput: string, guestMacs: readonly string[]): string[] {
  const wanted = guestMacs.map(tapMacFor);
  return ipLinkOutput
    .split('\n')
    .filter((line) => wanted.some((mac) => line.toLowerCase().includes(`link/ether ${mac}`)))
    .map((line) => line.split(':')[1]?.trim() ?? line);
}

/** The `<host mac=…/>` of a libvirt network's DHCP section for this MAC, if any. */
export function dhcpHostEntry(networkXml: string, mac: string): string | undefined {
  const document = libvirtXmlParser().parseFromString(networkXml, 'text/xml');
  const host = elements(document.documentElement as Element, 'host').find(
    (candidate) => candidate.getAttribute('mac')?.toLowerCase() === mac.toLowerCase(),
  );
  return host ? new XMLSerializer().serializeToString(host) : undefined;
}

/** Readers for the host-side XML documents libvirt returns: capabilities and network definitions. */
import type { Element } from '@xmldom/xmldom';
import { RehomeError } from '../errors.js';
import { attr, child, childElements, libvirtXmlParser, text } from '../libvirt/domain-xml/dom.js';
import type { HostCpuFacts } from './types.js';

function parseRoot(xml: string, what: string): Element {
  let root: Element | null = null;
  try {
    root = libvirtXmlParser((level, message) => {
      if (level !== 'warning') throw new Error(message);
    }).parseFromString(xml, 'text/xml').documentElement;
  } catch (err) {
    throw new RehomeError(`Invalid ${what} XML from libvirt: ${(err as Error).message}`, 'libvirt');
  }
  if (!root) throw new RehomeError(`Empty ${what} XML from libvirt`, 'libvirt');
  return root;
}

/** The host CPU from `virsh capabilities` (`<capabilities><host><cpu>`). */
export function hostCpuFromCapabilities(xml: string): HostCpuFacts {
  const cpu = child(child(parseRoot(xml, 'capabilities'), 'host'), 'cpu');
  return {
    arch: text(child(cpu, 'arch')) ?? '',
    model: text(child(cpu, 'model')) ?? '',
    vendor: text(child(cpu, 'vendor')) ?? '',
    features: childElements(cpu, 'feature')
      .map((feature) => attr(feature, 'name') ?? '')
      .filter((name) => name !== ''),
  };
}

/**
 * Machine types QEMU offers, by guest arch (`<guest><arch name=…><machine canonical=…>NAME</machine>`): each
 * name and its canonical name, as a domain's inactive XML may hold either.
 */
export function machineTypesFromCapabilities(xml: string): Record<string, string[]> {
  const byArch: Record<string, Set<string>> = {};
  for (const guest of childElements(parseRoot(xml, 'capabilities'), 'guest')) {
    const arch = child(guest, 'arch');
    const name = attr(arch, 'name');
    if (!name) continue;
    const machines = byArch[name] ?? new Set<string>();
    byArch[name] = machines;
    const domains = [arch, ...childElements(arch, 'domain')];
    for (const machine of domains.flatMap((parent) => childElements(parent, 'machine'))) {
      const value = text(machine);
      if (value) machines.add(value);
      const canonical = attr(machine, 'canonical');
      if (canonical) machines.add(canonical);
    }
  }
  return Object.fromEntries(Object.entries(byArch).map(([arch, names]) => [arch, [...names].sort()]));
}

/** The bridge a libvirt network uses (`<network><bridge name=…>`), if any. */
export function networkBridge(xml: string): string | undefined {
  return attr(child(parseRoot(xml, 'network'), 'bridge'), 'name');
}

/** Readers for the host-side XML documents libvirt returns: capabilities and network definitions. */
import { DOMParser, type Element } from '@xmldom/xmldom';
import { RehomeError } from '../errors.js';
import { attr, child, childElements, text } from '../libvirt/domain-xml/dom.js';
import type { HostCpuFacts } from './types.js';

function parseRoot(xml: string, what: string): Element {
  let root: Element | null = null;
  try {
    root = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
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

/** The bridge a libvirt network uses (`<network><bridge name=…>`), if any. */
export function networkBridge(xml: string): string | undefined {
  return attr(child(parseRoot(xml, 'network'), 'bridge'), 'name');
}

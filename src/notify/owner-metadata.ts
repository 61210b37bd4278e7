import { type DOMParser, type Element, XMLSerializer } from '@xmldom/xmldom';
import { libvirtXmlParser } from '../libvirt/domain-xml/dom.js';
import { REHOME_METADATA_NS } from '../libvirt/domain-xml.js';
import type { OwnerMetadata } from './owner.js';

export { REHOME_METADATA_NS };
/** The prefix libvirt writes for it (virDomainSetMetadata's `key`). */
export const REHOME_METADATA_KEY = 'rehome';

/**
 * The element given to libvirt's set-metadata: `<owner timeZone="Europe/Paris">alice@example.com</owner>`. libvirt
 * puts it in the namespace, so the domain XML then shows `<rehome:owner xmlns:rehome="…">`, which DomainXml.owner
 * reads. libvirt keeps one element per namespace, so everything rehome knows of the owner sits on this one.
 */
export function formatOwnerElement(owner: OwnerMetadata): string {
  const document = libvirtXmlParser().parseFromString('<owner/>', 'text/xml');
  const element = document.documentElement as Element;
  if (owner.timeZone) element.setAttribute('timeZone', owner.timeZone);
  if (owner.name) element.setAttribute('name', owner.name);
  element.appendChild(document.createTextNode(owner.address));
  return new XMLSerializer().serializeToString(element);
}

/** The owner from a whole domain XML (its `<metadata>`), or from the element libvirt's get-metadata returns. */
export function readOwnerMetadata(xml: string): OwnerMetadata | undefined {
  let document: ReturnType<DOMParser['parseFromString']>;
  try {
    document = libvirtXmlParser(() => undefined).parseFromString(xml, 'text/xml');
  } catch {
    return undefined;
  }
  const root = document.documentElement;
  if (!root) return undefined;
  // get-metadata answers with the bare element, its namespace stripped: `<owner …>`.
  const candidates: Element[] =
    isOwner(root) || (root.localName === 'owner' && !root.namespaceURI) ? [root] : [];
  if (root.localName === 'domain') {
    for (const metadata of elementChildren(root).filter((element) => element.localName === 'metadata')) {
      candidates.push(...elementChildren(metadata).filter(isOwner));
    }
  }
  const element = candidates[0];
  if (!element) return undefined;
  const address = (element.textContent ?? '').trim();
  if (address === '') return undefined;
  const timeZone = element.getAttribute('timeZone') || undefined;
  const name = element.getAttribute('name') || undefined;
  return { address, ...(timeZone ? { timeZone } : {}), ...(name ? { name } : {}) };
}

function isOwner(element: Element): boolean {
  return element.namespaceURI === REHOME_METADATA_NS && element.localName === 'owner';
}

function elementChildren(parent: Element): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) out.push(node as Element);
  }
  return out;
}

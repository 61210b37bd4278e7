import { DOMParser, type DOMParserOptions, type Element, type Node } from '@xmldom/xmldom';

const ELEMENT = 1;
const TEXT = 3;

export function childElements(parent: Element | null | undefined, tagName?: string): Element[] {
  if (!parent) return [];
  const out: Element[] = [];
  for (let i = 0; i < parent.childNodes.length; i++) {
    const node = parent.childNodes.item(i);
    if (node?.nodeType === ELEMENT && (tagName === undefined || (node as Element).tagName === tagName)) {
      out.push(node as Element);
    }
  }
  return out;
}

export function child(parent: Element | null | undefined, tagName: string): Element | undefined {
  return childElements(parent, tagName)[0];
}

export function attr(element: Element | null | undefined, name: string): string | undefined {
  return element?.hasAttribute(name) ? (element.getAttribute(name) ?? undefined) : undefined;
}

export function text(element: Element | null | undefined): string | undefined {
  return element ? (element.textContent ?? '').trim() : undefined;
}

/** Remove an element and the indentation before it, so the output stays as libvirt would write it. */
export function removeElement(element: Element): void {
  const parent = element.parentNode;
  const before = element.previousSibling;
  if (before?.nodeType === TEXT && /^\s*$/.test(before.nodeValue ?? '')) parent?.removeChild(before);
  parent?.removeChild(element);
  // An element left with only whitespace is written `<x/>`, as libvirt does.
  if (parent && isBlank(parent)) while (parent.firstChild) parent.removeChild(parent.firstChild);
}

function isBlank(node: Node): boolean {
  for (let i = 0; i < node.childNodes.length; i++) {
    const item = node.childNodes.item(i);
    if (item?.nodeType !== TEXT || !/^\s*$/.test(item.nodeValue ?? '')) return false;
  }
  return true;
}

/** Insert `element` after `reference`, on its own line with the reference's indentation. */
export function insertAfter(reference: Element, element: Node): void {
  const parent = reference.parentNode;
  if (!parent) return;
  const before = reference.previousSibling;
  const indent = before?.nodeType === TEXT ? (before.nodeValue ?? '').replace(/^[^\n]*/, '') : '\n';
  const doc = reference.ownerDocument;
  if (!doc) return;
  const next = reference.nextSibling;
  parent.insertBefore(doc.createTextNode(indent || '\n'), next);
  parent.insertBefore(element, next);
}

/**
 * Line ends as libvirt's parser (libxml2, XML 1.0) reads them: CR LF and CR become LF, nothing else. xmldom's default
 * follows XML 1.1 and also turns U+0085, U+2028 and U+2029 into LF, which would change a name or an owner that holds
 * one on its way back to libvirt.
 */
function xml10LineEnds(input: string): string {
  return input.replace(/\r\n?/g, '\n');
}

/**
 * The parser for XML from or for libvirt: it reads line ends as libvirt does (xml10LineEnds), so a name, a path or an
 * owner reads the same here as in libvirt. Every reader of libvirt's XML uses it (test/unit/layers.test.ts checks).
 */
export function libvirtXmlParser(onError?: DOMParserOptions['onError']): DOMParser {
  return new DOMParser({ normalizeLineEndings: xml10LineEnds, ...(onError ? { onError } : {}) });
}

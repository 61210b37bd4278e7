import type { Element, Node } from '@xmldom/xmldom';

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;
const PROCESSING_INSTRUCTION = 7;
const COMMENT = 8;

/**
 * Serialize a DOM the way libvirt writes domain XML, so unchanged input comes back byte for byte.
 * xmldom's own serializer writes attributes in double quotes and leaves `'` bare; libvirt (virBufferEscapeString)
 * writes single-quoted attributes and escapes `<>&'"` everywhere. Application content inside `<metadata>` is
 * dumped by libxml2 instead: double-quoted attributes, and only `<>&` (plus `"` in attributes) escaped.
 */
export function serializeLibvirtXml(node: Node): string {
  const parts: string[] = [];
  write(node, false, parts);
  return parts.join('');
}

function write(node: Node, inMetadata: boolean, out: string[]): void {
  switch (node.nodeType) {
    case ELEMENT: {
      const element = node as Element;
      const libxml = inMetadata;
      out.push(`<${element.tagName}`);
      for (let i = 0; i < element.attributes.length; i++) {
        const attribute = element.attributes.item(i);
        if (!attribute) continue;
        out.push(
          libxml
            ? ` ${attribute.name}="${escapeLibxmlAttribute(attribute.value)}"`
            : ` ${attribute.name}='${escapeLibvirt(attribute.value)}'`,
        );
      }
      if (element.childNodes.length === 0) {
        out.push('/>');
        return;
      }
      out.push('>');
      const childInMetadata = inMetadata || (element.tagName === 'metadata' && isDomainChild(element));
      for (let i = 0; i < element.childNodes.length; i++) {
        const child = element.childNodes.item(i);
        if (child) write(child, childInMetadata, out);
      }
      out.push(`</${element.tagName}>`);
      return;
    }
    case TEXT:
      out.push(inMetadata ? escapeLibxmlText(node.nodeValue ?? '') : escapeLibvirt(node.nodeValue ?? ''));
      return;
    case CDATA:
      out.push(`<![CDATA[${node.nodeValue ?? ''}]]>`);
      return;
    case COMMENT:
      out.push(`<!--${node.nodeValue ?? ''}-->`);
      return;
    case PROCESSING_INSTRUCTION:
      out.push(`<?${(node as Node & { target: string }).target} ${node.nodeValue ?? ''}?>`);
      return;
    default:
      for (let i = 0; i < node.childNodes.length; i++) {
        const child = node.childNodes.item(i);
        if (child) write(child, inMetadata, out);
      }
  }
}

function isDomainChild(element: Element): boolean {
  const parent = element.parentNode as Element | null;
  return parent?.nodeType === ELEMENT && parent.tagName === 'domain';
}

function escapeLibvirt(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => LIBVIRT_ENTITIES[c] as string);
}

const LIBVIRT_ENTITIES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&apos;',
  '"': '&quot;',
};

function escapeLibxmlText(value: string): string {
  return value.replace(/[<>&\r]/g, (c) => (c === '\r' ? '&#13;' : (LIBVIRT_ENTITIES[c] as string)));
}

function escapeLibxmlAttribute(value: string): string {
  return value.replace(/[<>&"\n\r\t]/g, (c) => LIBXML_ATTRIBUTE_ENTITIES[c] as string);
}

const LIBXML_ATTRIBUTE_ENTITIES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '"': '&quot;',
  '\n': '&#10;',
  '\r': '&#13;',
  '\t': '&#9;',
};

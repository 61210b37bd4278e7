import type { Document, Element } from '@xmldom/xmldom';
import { RehomeError } from '../errors.js';
import {
  attr,
  child,
  childElements,
  insertAfter,
  libvirtXmlParser,
  removeElement,
  text,
} from './domain-xml/dom.js';
import { type FirmwareInfo, pointNvramAt, readFirmware } from './domain-xml/firmware.js';
import { serializeLibvirtXml } from './domain-xml/serialize.js';

export type { FirmwareInfo };

/** The namespace of rehome's element in a domain's `<metadata>` (the owner), wherever it is written or read. */
export const REHOME_METADATA_NS = 'https://rehome.dev/xmlns/1';

export interface DiskSource {
  file?: string;
  dev?: string;
  protocol?: string;
  name?: string;
  pool?: string;
  volume?: string;
  hosts: { name?: string; port?: string; transport?: string; socket?: string }[];
}

/**
 * The inventory's coarse class of a disk, from the disk policy's decision (src/disks, which decides every disk):
 * - `local`: copied to the target;
 * - `network`: network or shared storage: re-attached as it is;
 * - `skip`: nothing to move (an empty drive) or media ejected on the operator's request;
 * - `unsupported`: refused with a reason: a blocker for planning and for `migrate`.
 */
export type DiskClass = 'local' | 'network' | 'skip' | 'unsupported';

export interface DiskInfo {
  device: string;
  type: string;
  driverType?: string;
  source: DiskSource;
  /** The file or block device path, when there is one. */
  path?: string;
  targetDev: string;
  targetBus?: string;
  readonly: boolean;
  shareable: boolean;
  /** Files of the backing chain the definition describes (`<backingStore>`, running XML), nearest first. */
  backingFiles: string[];
}

export interface NicInfo {
  type: string;
  mac?: string;
  source: { bridge?: string; network?: string; dev?: string; mode?: string; portgroup?: string };
  model?: string;
  /** The host tap device (running XML only). */
  targetDev?: string;
  linkState?: string;
}

export interface HostdevInfo {
  /** `hostdev`, or `interface` for `<interface type='hostdev'>`. */
  element: 'hostdev' | 'interface';
  mode?: string;
  type?: string;
  /** A short description of the host device, e.g. `pci 0000:3b:00.1`. */
  source: string;
}

export interface CpuInfo {
  mode?: string;
  match?: string;
  model?: string;
  fallback?: string;
  vendor?: string;
  features: { name: string; policy?: string }[];
}

export interface DroppedItem {
  what: string;
  why: string;
}

/** A libvirt domain definition, parsed into a DOM that is read and edited in place. */
export class DomainXml {
  private constructor(
    private readonly document: Document,
    private readonly leading: string,
    private readonly trailing: string,
  ) {}

  static parse(xml: string): DomainXml {
    let document: Document;
    try {
      document = libvirtXmlParser((level, message) => {
        if (level !== 'warning') throw new Error(message);
      }).parseFromString(xml, 'text/xml');
    } catch (err) {
      throw new RehomeError(`Invalid domain XML: ${(err as Error).message}`, 'libvirt');
    }
    if (document.documentElement?.tagName !== 'domain') {
      throw new RehomeError('Invalid domain XML: the root element is not <domain>', 'libvirt');
    }
    const leading = /^\s*/.exec(xml)?.[0] ?? '';
    const trailing = /\s*$/.exec(xml)?.[0] ?? '';
    return new DomainXml(document, leading, trailing);
  }

  /** libvirt's formatting; unchanged input comes back byte for byte. */
  toString(): string {
    return `${this.leading}${serializeLibvirtXml(this.root)}${this.trailing}`;
  }

  private get root(): Element {
    return this.document.documentElement as Element;
  }

  private get devices(): Element | undefined {
    return child(this.root, 'devices');
  }

  get name(): string {
    return text(child(this.root, 'name')) ?? '';
  }

  get uuid(): string {
    return text(child(this.root, 'uuid')) ?? '';
  }

  /** `qemu` or `kvm`. */
  get hypervisorType(): string {
    return attr(this.root, 'type') ?? '';
  }

  get vcpus(): { current: number; max: number } {
    const vcpu = child(this.root, 'vcpu');
    const max = Number(text(vcpu) ?? '1');
    return { current: Number(attr(vcpu, 'current') ?? max), max };
  }

  /** Memory in KiB: `max` is `<memory>`, `current` is `<currentMemory>` (or `<memory>` when absent). */
  get memoryKiB(): { max: number; current: number } {
    const max = toKiB(child(this.root, 'memory'));
    const currentElement = child(this.root, 'currentMemory');
    return { max, current: currentElement ? toKiB(currentElement) : max };
  }

  get cpu(): CpuInfo {
    const cpu = child(this.root, 'cpu');
    const model = child(cpu, 'model');
    return {
      mode: attr(cpu, 'mode') ?? (cpu ? 'custom' : undefined),
      match: attr(cpu, 'match'),
      model: text(model) || undefined,
      fallback: attr(model, 'fallback'),
      vendor: text(child(cpu, 'vendor')) || undefined,
      features: childElements(cpu, 'feature').map((feature) => ({
        name: attr(feature, 'name') ?? '',
        policy: attr(feature, 'policy'),
      })),
    };
  }

  get nics(): NicInfo[] {
    return childElements(this.devices, 'interface').map((nic) => {
      const source = child(nic, 'source');
      return {
        type: attr(nic, 'type') ?? '',
        mac: attr(child(nic, 'mac'), 'address'),
        source: dropUndefined({
          bridge: attr(source, 'bridge'),
          network: attr(source, 'network'),
          dev: attr(source, 'dev'),
          mode: attr(source, 'mode'),
          portgroup: attr(source, 'portgroup'),
        }),
        model: attr(child(nic, 'model'), 'type'),
        targetDev: attr(child(nic, 'target'), 'dev'),
        linkState: attr(child(nic, 'link'), 'state'),
      };
    });
  }

  get disks(): DiskInfo[] {
    return childElements(this.devices, 'disk').map(readDisk);
  }

  /** Devices passed through from the host: they pin the guest to it. */
  get hostdevs(): HostdevInfo[] {
    const plain = childElements(this.devices, 'hostdev').map((hostdev) => ({
      element: 'hostdev' as const,
      mode: attr(hostdev, 'mode'),
      type: attr(hostdev, 'type'),
      source: describeHostdevSource(attr(hostdev, 'type'), child(hostdev, 'source')),
    }));
    const nics = childElements(this.devices, 'interface')
      .filter((nic) => attr(nic, 'type') === 'hostdev')
      .map((nic) => ({
        element: 'interface' as const,
        mode: attr(nic, 'managed'),
        type: 'pci',
        source: describeHostdevSource('pci', child(nic, 'source')),
      }));
    return [...plain, ...nics];
  }

  get owner(): string | undefined {
    const element = this.ownerElement();
    return element ? (element.textContent ?? '').trim() : undefined;
  }

  /** Set the owner in `<metadata><rehome:owner xmlns:rehome="https://rehome.dev/xmlns/1">`. */
  setOwner(owner: string): void {
    const existing = this.ownerElement();
    if (existing) {
      while (existing.firstChild) existing.removeChild(existing.firstChild);
      existing.appendChild(this.document.createTextNode(owner));
      return;
    }
    let metadata = child(this.root, 'metadata');
    if (!metadata) {
      metadata = this.document.createElement('metadata');
      const anchor = ['description', 'title', 'uuid', 'name']
        .map((tag) => child(this.root, tag))
        .find((element) => element !== undefined);
      if (!anchor) throw new RehomeError('Domain XML has no <name>', 'libvirt');
      insertAfter(anchor, metadata);
      metadata.appendChild(this.document.createTextNode(`\n${indentOf(anchor)}`));
    }
    const element = this.document.createElementNS(REHOME_METADATA_NS, 'rehome:owner');
    element.setAttribute('xmlns:rehome', REHOME_METADATA_NS);
    element.appendChild(this.document.createTextNode(owner));
    const indent = `\n${indentOf(metadata)}  `;
    metadata.insertBefore(this.document.createTextNode(indent), metadata.firstChild);
    metadata.insertBefore(element, metadata.firstChild?.nextSibling ?? null);
  }

  /**
   * Point the disk at `targetDev` to a file (or, with `as: 'block'`, a block device) on the target host. A block
   * device becomes a file disk unless asked otherwise; the source's backing chain description and runtime index go,
   * since the copy is a standalone image.
   */
  repointDisk(
    targetDev: string,
    path: string,
    options: { format?: string; as?: 'file' | 'block' } = {},
  ): void {
    const disk = this.diskElement(targetDev);
    const type = attr(disk, 'type');
    if (type !== 'file' && type !== 'block') {
      throw new RehomeError(
        `Disk ${targetDev} of ${this.name} is ${type}, not a local file or block device`,
        'invalid-input',
      );
    }
    const source = child(disk, 'source');
    if (!source) throw new RehomeError(`Disk ${targetDev} of ${this.name} has no source`, 'invalid-input');
    const as = options.as ?? 'file';
    const [attribute, other] = as === 'block' ? ['dev', 'file'] : ['file', 'dev'];
    disk.setAttribute('type', as);
    if (source.hasAttribute(other)) {
      // Keep the attribute's position: rename by rebuilding the attribute list in order.
      renameAttribute(source, other, attribute, path);
    } else source.setAttribute(attribute, path);
    source.removeAttribute('index');
    for (const backing of childElements(disk, 'backingStore')) removeElement(backing);
    if (options.format) child(disk, 'driver')?.setAttribute('type', options.format);
  }

  /** Removes the media of a cdrom/floppy drive: the drive stays, empty. */
  ejectMedia(targetDev: string): void {
    const disk = this.diskElement(targetDev);
    const source = child(disk, 'source');
    if (source) removeElement(source);
    for (const backing of childElements(disk, 'backingStore')) removeElement(backing);
  }

  private diskElement(targetDev: string): Element {
    const disk = childElements(this.devices, 'disk').find(
      (candidate) => attr(child(candidate, 'target'), 'dev') === targetDev,
    );
    if (!disk) throw new RehomeError(`Domain ${this.name} has no disk ${targetDev}`, 'not-found');
    return disk;
  }

  /** Remove what only makes sense on the host the XML came from. Returns what was dropped and why. */
  dropHostSpecific(): DroppedItem[] {
    const dropped: DroppedItem[] = [];
    const note = (what: string, why: string) => dropped.push({ what, why });
    if (this.root.hasAttribute('id')) {
      note(`domain id='${attr(this.root, 'id')}'`, 'runtime id of a running domain on this libvirtd');
      this.root.removeAttribute('id');
    }
    for (const device of childElements(this.devices)) {
      for (const alias of childElements(device, 'alias')) {
        const name = attr(alias, 'name') ?? '';
        if (name.startsWith('ua-')) continue;
        note(
          `<alias name='${name}'/> of ${device.tagName}`,
          'assigned by libvirt at start; user aliases (ua-) are kept',
        );
        removeElement(alias);
      }
    }
    for (const nic of childElements(this.devices, 'interface')) {
      const target = child(nic, 'target');
      const dev = attr(target, 'dev') ?? '';
      if (target && /^(vnet|macvtap|macvlan|vif)\d+$/.test(dev)) {
        note(
          `<target dev='${dev}'/> of interface ${attr(child(nic, 'mac'), 'address') ?? ''}`,
          'tap names are per host',
        );
        removeElement(target);
      }
      const source = child(nic, 'source');
      if (attr(nic, 'type') === 'network' && source) {
        for (const runtime of ['portid', 'bridge']) {
          if (!source.hasAttribute(runtime)) continue;
          note(
            `${runtime}='${attr(source, runtime)}' of network interface`,
            "the network's port on this host",
          );
          source.removeAttribute(runtime);
        }
      }
    }
    for (const disk of childElements(this.devices, 'disk')) {
      const source = child(disk, 'source');
      if (source?.hasAttribute('index')) {
        note(`index='${attr(source, 'index')}' of disk source`, 'runtime node index of the running QEMU');
        source.removeAttribute('index');
      }
      for (const backing of childElements(disk, 'backingStore')) {
        if (backing.childNodes.length > 0 || backing.attributes.length > 0) continue;
        note('empty <backingStore/>', 'runtime marker of a probed chain end');
        removeElement(backing);
      }
    }
    for (const chardev of [
      ...childElements(this.devices, 'serial'),
      ...childElements(this.devices, 'console'),
    ]) {
      if (attr(chardev, 'type') !== 'pty') continue;
      if (chardev.hasAttribute('tty')) {
        note(`tty='${attr(chardev, 'tty')}' of ${chardev.tagName}`, 'pty allocated on this host');
        chardev.removeAttribute('tty');
      }
      const source = child(chardev, 'source');
      if (source) {
        note(`<source path='${attr(source, 'path')}'/> of ${chardev.tagName}`, 'pty allocated on this host');
        removeElement(source);
      }
    }
    for (const graphics of childElements(this.devices, 'graphics')) {
      if (
        attr(graphics, 'autoport') === 'yes' &&
        attr(graphics, 'port') !== '-1' &&
        graphics.hasAttribute('port')
      ) {
        note(`port='${attr(graphics, 'port')}' of graphics`, 'autoport picks a free port on the target');
        graphics.setAttribute('port', '-1');
      }
    }
    for (const seclabel of childElements(this.root, 'seclabel')) {
      if (attr(seclabel, 'type') !== 'dynamic') continue;
      for (const label of [...childElements(seclabel, 'label'), ...childElements(seclabel, 'imagelabel')]) {
        note(`<${label.tagName}> of dynamic seclabel`, 'generated per start by the security driver');
        removeElement(label);
      }
    }
    return dropped;
  }

  /** Machine type, loader, NVRAM and emulated TPM: what the guest's firmware needs on a host and keeps there. */
  get firmware(): FirmwareInfo {
    return readFirmware(this.root);
  }

  /** Points the UEFI variable store at a file (the copy carried to the target). */
  setNvram(path: string): void {
    pointNvramAt(this.root, path);
  }

  private ownerElement(): Element | undefined {
    const metadata = child(this.root, 'metadata');
    return childElements(metadata).find(
      (element) => element.namespaceURI === REHOME_METADATA_NS && element.localName === 'owner',
    );
  }
}

function readDisk(disk: Element): DiskInfo {
  const source = child(disk, 'source');
  const target = child(disk, 'target');
  const file = attr(source, 'file');
  const dev = attr(source, 'dev');
  return {
    device: attr(disk, 'device') ?? 'disk',
    type: attr(disk, 'type') ?? 'file',
    driverType: attr(child(disk, 'driver'), 'type'),
    source: {
      ...dropUndefined({
        file,
        dev,
        protocol: attr(source, 'protocol'),
        name: attr(source, 'name'),
        pool: attr(source, 'pool'),
        volume: attr(source, 'volume'),
      }),
      hosts: childElements(source, 'host').map((host) =>
        dropUndefined({
          name: attr(host, 'name'),
          port: attr(host, 'port'),
          transport: attr(host, 'transport'),
          socket: attr(host, 'socket'),
        }),
      ),
    },
    path: file ?? dev,
    targetDev: attr(target, 'dev') ?? '',
    targetBus: attr(target, 'bus'),
    readonly: child(disk, 'readonly') !== undefined,
    shareable: child(disk, 'shareable') !== undefined,
    backingFiles: backingFiles(disk),
  };
}

function backingFiles(disk: Element): string[] {
  const files: string[] = [];
  let backing = child(disk, 'backingStore');
  while (backing && files.length < 64) {
    const source = child(backing, 'source');
    const path = attr(source, 'file') ?? attr(source, 'dev');
    if (path) files.push(path);
    backing = child(backing, 'backingStore');
  }
  return files;
}

function describeHostdevSource(type: string | undefined, source: Element | undefined): string {
  const address = child(source, 'address');
  if (type === 'pci' && address) {
    const hex = (name: string, width: number) =>
      (attr(address, name) ?? '0').replace(/^0x/, '').padStart(width, '0');
    return `pci ${hex('domain', 4)}:${hex('bus', 2)}:${hex('slot', 2)}.${(attr(address, 'function') ?? '0x0').replace(/^0x/, '')}`;
  }
  if (type === 'usb') {
    const vendor = attr(child(source, 'vendor'), 'id');
    const product = attr(child(source, 'product'), 'id');
    if (vendor || product) return `usb ${vendor ?? '?'}:${product ?? '?'}`;
    return `usb bus ${attr(address, 'bus') ?? '?'} device ${attr(address, 'device') ?? '?'}`;
  }
  return `${type ?? 'unknown'} device`;
}

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1e3,
  k: 1024,
  kib: 1024,
  mb: 1e6,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1e9,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1e12,
  t: 1024 ** 4,
  tib: 1024 ** 4,
};

/** libvirt memory elements: a number and an optional unit (default KiB). */
function toKiB(element: Element | undefined): number {
  if (!element) return 0;
  const unit = (attr(element, 'unit') ?? 'KiB').toLowerCase();
  const factor = UNIT_BYTES[unit];
  if (factor === undefined) throw new RehomeError(`Unknown memory unit ${unit} in domain XML`, 'libvirt');
  return Math.ceil((Number(text(element)) * factor) / 1024);
}

function renameAttribute(element: Element, from: string, to: string, value: string): void {
  const attributes: [string, string][] = [];
  for (let i = 0; i < element.attributes.length; i++) {
    const attribute = element.attributes.item(i);
    if (attribute) attributes.push([attribute.name, attribute.value]);
  }
  for (const [name] of attributes) element.removeAttribute(name);
  for (const [name, old] of attributes)
    element.setAttribute(name === from ? to : name, name === from ? value : old);
}

function indentOf(element: Element): string {
  const before = element.previousSibling;
  return before?.nodeType === 3 ? (before.nodeValue ?? '').replace(/^[^\n]*\n?/, '') : '';
}

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

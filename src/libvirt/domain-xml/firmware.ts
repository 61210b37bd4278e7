import type { Element } from '@xmldom/xmldom';
import { RehomeError } from '../../errors.js';
import { attr, child, childElements, text } from './dom.js';

/** What a domain needs of its host's firmware, and the per-VM firmware state it keeps there. */
export interface FirmwareInfo {
  /** `<type arch=…>`. */
  arch?: string;
  /** `<type machine=…>`: the machine type, as libvirt expanded it (`pc-q35-7.2`). */
  machine?: string;
  /** `<os firmware='efi'>`: libvirt picks the loader itself at start. */
  autoselect?: string;
  /** The loader (`<loader>` path): it must exist on the host that starts the guest. */
  loader?: string;
  /** The per-VM UEFI variable store (`<nvram>` path, or its `<source file>`). */
  nvram?: string;
  /** An emulated TPM: libvirt keeps its state under /var/lib/libvirt/swtpm/<uuid>/ and runs swtpm for it. */
  tpm?: { model?: string; version?: string };
}

export function readFirmware(root: Element): FirmwareInfo {
  const os = child(root, 'os');
  const type = child(os, 'type');
  const nvram = child(os, 'nvram');
  const info: FirmwareInfo = {};
  const set = <K extends keyof FirmwareInfo>(key: K, value: FirmwareInfo[K] | undefined) => {
    if (value !== undefined && value !== '') info[key] = value;
  };
  set('arch', attr(type, 'arch'));
  set('machine', attr(type, 'machine'));
  set('autoselect', attr(os, 'firmware'));
  set('loader', text(child(os, 'loader')));
  set('nvram', attr(child(nvram, 'source'), 'file') ?? text(nvram));
  const tpm = childElements(child(root, 'devices'), 'tpm').find(
    (element) => attr(child(element, 'backend'), 'type') === 'emulator',
  );
  if (tpm) {
    const model = attr(tpm, 'model');
    const version = attr(child(tpm, 'backend'), 'version');
    info.tpm = { ...(model ? { model } : {}), ...(version ? { version } : {}) };
  }
  return info;
}

/** Points `<nvram>` at `path`, keeping its template and format attributes. */
export function pointNvramAt(root: Element, path: string): void {
  const nvram = child(child(root, 'os'), 'nvram');
  if (!nvram) throw new RehomeError(`Domain ${text(child(root, 'name'))} has no <nvram>`, 'invalid-input');
  const source = child(nvram, 'source');
  if (source) {
    source.setAttribute('file', path);
    return;
  }
  while (nvram.firstChild) nvram.removeChild(nvram.firstChild);
  nvram.appendChild((nvram.ownerDocument as NonNullable<Element['ownerDocument']>).createTextNode(path));
}

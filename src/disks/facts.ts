/** What the policy needs to know from the source host about `type='volume'` disks: their pool's type and path. */
import type { LibvirtClient } from '../libvirt/client.js';
import { libvirtXmlParser } from '../libvirt/domain-xml/dom.js';
import type { DiskInfo } from '../libvirt/domain-xml.js';
import type { DiskFactsForPolicy, VolumeFacts } from './policy.js';

export type StorageReader = Pick<
  LibvirtClient,
  | 'lookupStoragePoolByName'
  | 'getStoragePoolXml'
  | 'lookupStorageVolByName'
  | 'getStorageVolXml'
  | 'getStorageVolPath'
>;

/** The first element of that tag name in an XML string; a small reader for pool and volume XML. */
function firstElement(xml: string, tag: string) {
  const document = libvirtXmlParser(() => {}).parseFromString(xml, 'text/xml');
  return document.getElementsByTagName(tag).item(0) ?? undefined;
}

export function poolTypeOf(poolXml: string): string | undefined {
  return firstElement(poolXml, 'pool')?.getAttribute('type') ?? undefined;
}

/** The volume's format (`<target><format type='qcow2'/>`), when it has one. */
export function volumeFormatOf(volumeXml: string): string | undefined {
  const target = firstElement(volumeXml, 'target');
  const format = target ? target.getElementsByTagName('format').item(0) : null;
  const type = format?.getAttribute('type');
  return type && type !== 'none' ? type : undefined;
}

export async function readVolumeFacts(
  libvirt: StorageReader,
  pool: string,
  volume: string,
): Promise<VolumeFacts | undefined> {
  try {
    const poolRef = await libvirt.lookupStoragePoolByName(pool);
    const poolType = poolTypeOf(await libvirt.getStoragePoolXml(poolRef));
    const vol = await libvirt.lookupStorageVolByName(poolRef, volume);
    const [volXml, path] = await Promise.all([libvirt.getStorageVolXml(vol), libvirt.getStorageVolPath(vol)]);
    if (!poolType) return undefined;
    const format = volumeFormatOf(volXml);
    return { poolType, path, ...(format ? { format } : {}) };
  } catch {
    // Missing pool or volume, inactive pool: the policy refuses an unresolved volume with its reason.
    return undefined;
  }
}

/** Facts for every `type='volume'` disk of a domain, by target device. */
export async function readDiskFacts(
  libvirt: StorageReader,
  disks: readonly DiskInfo[],
): Promise<Map<string, DiskFactsForPolicy>> {
  const facts = new Map<string, DiskFactsForPolicy>();
  for (const disk of disks) {
    if (disk.type !== 'volume' || !disk.source.pool || !disk.source.volume) continue;
    const volume = await readVolumeFacts(libvirt, disk.source.pool, disk.source.volume);
    facts.set(disk.targetDev, volume ? { volume } : {});
  }
  return facts;
}

/** Domains of several shapes for the inventory lab test and bench: written into a host's tree, then `virsh define`d. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { macForName, virsh } from './lab.js';
import { GUEST_IMAGE_DIR, hostRoot } from './paths.js';
import { run } from './run.js';

export const HOSTILE_NAME = `it's a "test" $(touch rehome-pwned)`;
export const NBD_SERVER = { address: '10.203.0.99', port: '10809', export: 'inv-export' };

export interface LabDisk {
  /** Target dev: vda, vdb… */
  target: string;
  file?: { name: string; format: 'qcow2' | 'raw'; sizeBytes: number };
  nbd?: typeof NBD_SERVER;
}

export interface LabDomainSpec {
  name: string;
  /** A file-safe stem for images and the XML. */
  stem: string;
  disks: LabDisk[];
  memoryMiB?: number;
  vcpus?: number;
  owner?: string;
  /** The bridge of a NIC, if any. */
  bridge?: string;
}

function xmlEscape(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll("'", '&apos;')
    .replaceAll('"', '&quot;');
}

export function imagePath(disk: NonNullable<LabDisk['file']>): string {
  return path.join(GUEST_IMAGE_DIR, disk.name);
}

export function labDomainXml(spec: LabDomainSpec): string {
  const disks = spec.disks.map((disk) => {
    if (disk.file) {
      return `    <disk type='file' device='disk'>
      <driver name='qemu' type='${disk.file.format}'/>
      <source file='${imagePath(disk.file)}'/>
      <target dev='${disk.target}' bus='virtio'/>
    </disk>`;
    }
    const nbd = disk.nbd ?? NBD_SERVER;
    return `    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='nbd' name='${nbd.export}'>
        <host name='${nbd.address}' port='${nbd.port}'/>
      </source>
      <target dev='${disk.target}' bus='virtio'/>
    </disk>`;
  });
  const nic = spec.bridge
    ? `    <interface type='bridge'>
      <mac address='${macForName(spec.stem)}'/>
      <source bridge='${spec.bridge}'/>
      <model type='virtio'/>
    </interface>`
    : '';
  const owner = spec.owner
    ? `  <metadata>
    <rehome:owner xmlns:rehome="https://rehome.dev/xmlns/1">${xmlEscape(spec.owner)}</rehome:owner>
  </metadata>\n`
    : '';
  return `<domain type='qemu'>
  <name>${xmlEscape(spec.name)}</name>
${owner}  <memory unit='MiB'>${spec.memoryMiB ?? 64}</memory>
  <vcpu>${spec.vcpus ?? 1}</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <cpu mode='custom' match='exact'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <on_poweroff>destroy</on_poweroff>
  <devices>
${[...disks, nic].filter(Boolean).join('\n')}
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/** Creates the images (from the root namespace, in the host's tree) and defines the domain; it stays shut off. */
export async function defineLabDomain(host: string, spec: LabDomainSpec): Promise<void> {
  const root = hostRoot(host);
  await mkdir(path.join(root, GUEST_IMAGE_DIR), { recursive: true });
  for (const disk of spec.disks) {
    if (!disk.file) continue;
    await run([
      'qemu-img',
      'create',
      '-q',
      '-f',
      disk.file.format,
      path.join(root, imagePath(disk.file)),
      String(disk.file.sizeBytes),
    ]);
  }
  const xmlInHost = `/var/lib/libvirt/rehome-lab/${spec.stem}.xml`;
  await mkdir(path.join(root, path.dirname(xmlInHost)), { recursive: true });
  await writeFile(path.join(root, xmlInHost), labDomainXml(spec));
  await virsh(host, ['define', xmlInHost]);
}

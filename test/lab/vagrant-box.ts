/**
 * The lab's Vagrant box for the libvirt provider: the Debian lab guest's image (test/lab/debian-guest.ts) with the
 * packages vagrant/Vagrantfile's provisioning installs already inside (the lab has no route out), a `vagrant` user
 * with Vagrant's insecure key, sshd, and per-VM ssh host keys (vagrant/box/customize.sh). The image has no
 * bootloader: the box's own Vagrantfile boots the kernel and initrd from files on the libvirt host (BOX_KERNEL,
 * BOX_INITRD), which whoever brings a VM up copies there first.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildDebianImage, type DebianImage } from './debian-guest.js';
import { GUEST_BOOT_DIR, repoDir } from './paths.js';
import { type Progress, run, silent } from './run.js';

export const VAGRANT_DIR = path.join(repoDir, 'vagrant');
export const BOX_NAME = 'rehome/lab-bookworm';
export const BOX_KERNEL = `${GUEST_BOOT_DIR}/rehome-vagrant-vmlinuz`;
export const BOX_INITRD = `${GUEST_BOOT_DIR}/rehome-vagrant-initrd.img`;
/** The box's disk: the hypervisor packages take about 400 MB more than the lab guest. */
const BOX_DISK_MIB = 4096;

/** The packages the Vagrantfile's `packages` provisioner installs (its PACKAGES), and sudo for Vagrant itself. */
export async function boxPackages(): Promise<string[]> {
  const vagrantfile = await readFile(path.join(VAGRANT_DIR, 'Vagrantfile'), 'utf8');
  const list = /^PACKAGES = %w\[([^\]]*)\]/m.exec(vagrantfile)?.[1];
  if (!list) throw new Error('vagrant/Vagrantfile has no PACKAGES = %w[...] line');
  return [...list.trim().split(/\s+/), 'sudo'];
}

/** The box's own Vagrantfile: how the libvirt provider boots an image without a bootloader. */
export function boxVagrantfile(): string {
  return `# The rehome lab's box (test/lab/vagrant-box.ts): Debian 12 without a bootloader. The libvirt host boots the
# box's own kernel and initrd, which must be at these paths on that host.
Vagrant.configure('2') do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.kernel = '${BOX_KERNEL}'
    libvirt.initrd = '${BOX_INITRD}'
    libvirt.cmd_line = 'root=/dev/vda1 ro console=ttyS0 net.ifnames=1'
    # Entropy for the first boot's ssh host key: under TCG the kernel's own takes tens of seconds.
    libvirt.random model: 'random'
    # No libvirt.serial here: vagrant-libvirt 0.11.2 fails to merge it with a Vagrantfile that sets none.
  end
end
`;
}

export interface VagrantBox extends DebianImage {
  /** The .box file for `vagrant box add`. */
  box: string;
}

/** Builds (or finds in the lab cache) the box's image: ~2 min with a reachable mirror, 0 s when cached. */
export async function buildBoxImage(progress: Progress = silent): Promise<DebianImage> {
  return buildDebianImage(progress, {
    name: 'vagrant-box',
    packages: await boxPackages(),
    customize: [path.join(VAGRANT_DIR, 'box', 'customize.sh')],
    diskMiB: BOX_DISK_MIB,
  });
}

/** The box's image, and the .box file packed around it in outDir. */
export async function buildVagrantBox(outDir: string, progress: Progress = silent): Promise<VagrantBox> {
  const image = await buildBoxImage(progress);
  const box = path.join(outDir, 'rehome-lab.box');
  progress('packing the Vagrant box');
  // Box format v1 of vagrant-libvirt: metadata.json, the qcow2 as box.img, and the box's Vagrantfile.
  const metadata = { provider: 'libvirt', format: 'qcow2', virtual_size: Math.ceil(BOX_DISK_MIB / 1024) };
  await writeFile(path.join(outDir, 'metadata.json'), `${JSON.stringify(metadata)}\n`);
  await writeFile(path.join(outDir, 'Vagrantfile'), boxVagrantfile());
  await run([
    'tar',
    '-cf',
    box,
    '-C',
    outDir,
    'metadata.json',
    'Vagrantfile',
    '-C',
    path.dirname(image.disk),
    '--transform=s/^disk\\.qcow2$/box.img/',
    'disk.qcow2',
  ]);
  return { ...image, box };
}

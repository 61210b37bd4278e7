import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { labPaths, labSourceDir } from './paths.js';
import { type Progress, run, silent } from './run.js';

/** Kernel modules the guest loads, in load order (virtio before virtio_ring fails with "unknown symbol"). */
export const GUEST_MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_pci',
  'virtio_blk',
  'failover',
  'net_failover',
  'virtio_net',
  'virtio_console',
  'button',
  'evdev',
];
/** Guest scripts (in test/lab/guest) and where they go in the initramfs. */
const GUEST_FILES: Record<string, string> = {
  'init.sh': 'init',
  'agent.sh': 'agent.sh',
  'agent-handler.sh': 'agent-handler.sh',
  'udhcpc.sh': 'etc/udhcpc.sh',
};
const BUSYBOX = '/bin/busybox';

export interface GuestImage {
  kernel: string;
  initrd: string;
}

/** The newest Debian cloud kernel on this machine and its module dir. */
export function cloudKernel(): { kernel: string; modules: string } {
  const kernels = readdirSync('/boot')
    .filter((name) => /^vmlinuz-.*-cloud-amd64$/.test(name))
    .sort();
  const kernel = kernels.at(-1);
  if (!kernel) throw new Error('no /boot/vmlinuz-*-cloud-amd64: install linux-image-cloud-amd64');
  const version = kernel.slice('vmlinuz-'.length);
  return { kernel: path.join('/boot', kernel), modules: path.join('/lib/modules', version) };
}

async function fingerprint(files: string[], extra: string[] = []): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    const info = await stat(file);
    hash.update(`${file}\0${info.size}\0${info.mtimeMs}\0`);
    if (info.size < 1_000_000) hash.update(await readFile(file));
  }
  for (const item of extra) hash.update(`${item}\0`);
  return hash.digest('hex');
}

async function upToDate(stampFile: string, digest: string, outputs: string[]): Promise<boolean> {
  try {
    if ((await readFile(stampFile, 'utf8')) !== digest) return false;
    for (const output of outputs) await stat(output);
    return true;
  } catch {
    return false;
  }
}

/** The subreaper holder binary, compiled once per change of holder.c. */
export async function buildHolder(progress: Progress = silent): Promise<string> {
  const cache = labPaths().cache;
  const source = path.join(labSourceDir, 'holder.c');
  const binary = path.join(cache, 'rehome-lab-holder');
  const stamp = `${binary}.stamp`;
  const digest = await fingerprint([source]);
  if (await upToDate(stamp, digest, [binary])) return binary;
  progress('compiling the subreaper holder');
  await mkdir(cache, { recursive: true });
  await run(['gcc', '-O2', '-Wall', '-o', binary, source]);
  await writeFile(stamp, digest);
  return binary;
}

/** The guest kernel + initramfs, rebuilt only when an input changes. */
export async function buildGuestImage(progress: Progress = silent): Promise<GuestImage> {
  const cache = labPaths().cache;
  const { kernel, modules } = cloudKernel();
  const allModules = (await readdir(path.join(modules, 'kernel'), { recursive: true })).map(String);
  const moduleFiles = GUEST_MODULES.map((name) => {
    const found = allModules.filter((file) => path.basename(file) === `${name}.ko`);
    const [only, ...more] = found;
    if (!only || more.length) throw new Error(`kernel module ${name}.ko not found once under ${modules}`);
    return path.join(modules, 'kernel', only);
  });
  const guestFiles = Object.keys(GUEST_FILES).map((file) => path.join(labSourceDir, 'guest', file));
  const image = { kernel: path.join(cache, 'guest-vmlinuz'), initrd: path.join(cache, 'guest-initrd.gz') };
  const stamp = path.join(cache, 'guest.stamp');
  const digest = await fingerprint([kernel, BUSYBOX, ...moduleFiles, ...guestFiles], GUEST_MODULES);
  if (await upToDate(stamp, digest, [image.kernel, image.initrd])) return image;

  progress('building the guest initramfs');
  const tree = path.join(cache, 'initramfs');
  await rm(tree, { recursive: true, force: true });
  for (const dir of ['bin', 'etc', 'lib/modules', 'proc', 'sys', 'dev', 'run', 'tmp', 'data']) {
    await mkdir(path.join(tree, dir), { recursive: true });
  }
  await copyFile(BUSYBOX, path.join(tree, 'bin/busybox'));
  for (const file of moduleFiles) await copyFile(file, path.join(tree, 'lib/modules', path.basename(file)));
  for (const [file, target] of Object.entries(GUEST_FILES)) {
    await copyFile(path.join(labSourceDir, 'guest', file), path.join(tree, target));
  }
  await run(['chmod', '0755', 'bin/busybox', 'init', 'agent.sh', 'agent-handler.sh', 'etc/udhcpc.sh'], {
    cwd: tree,
  });
  await run(['sh', '-c', `find . | cpio -o -H newc --quiet | gzip -1 > ${image.initrd}.tmp`], { cwd: tree });
  await run(['mv', `${image.initrd}.tmp`, image.initrd]);
  await copyFile(kernel, image.kernel);
  await rm(tree, { recursive: true, force: true });
  await writeFile(stamp, digest);
  return image;
}

/** An empty ext4 disk of the given size, as qcow2, cached per size. */
export async function blankGuestDisk(size: string, progress: Progress = silent): Promise<string> {
  if (!/^\d+[KMGT]?$/.test(size)) throw new Error(`bad disk size ${JSON.stringify(size)} (e.g. 256M, 1G)`);
  const cache = labPaths().cache;
  const disk = path.join(cache, `disk-${size}.qcow2`);
  try {
    await stat(disk);
    return disk;
  } catch {}
  progress(`making a blank ${size} ext4 disk`);
  await mkdir(cache, { recursive: true });
  const raw = `${disk}.raw`;
  await run(['truncate', '-s', size, raw]);
  await run(['mkfs.ext4', '-q', '-F', '-L', 'data', raw]);
  await run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, `${disk}.tmp`]);
  await rm(raw);
  await run(['mv', `${disk}.tmp`, disk]);
  return disk;
}

/**
 * The second lab guest kind: Debian 12 from Debian's own packages (mmdebstrap), with systemd, DHCP by
 * systemd-networkd, qemu-guest-agent, tpm2-tools, efibootmgr, and the busybox guest's counter agent as a systemd
 * service (test/lab/guest-debian). One GPT disk, its root file system on partition 1; booted with its own Debian
 * cloud kernel and initrd (direct kernel boot), either by SeaBIOS or by OVMF (UEFI, with an NVRAM file and a vTPM).
 * The image is built once per change of its inputs and cached like the busybox one.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { guestDiskPath, labDomainXml, leaseFor, macForName } from './guest.js';
import { type LabGuest, labSh, labState, virsh } from './lab.js';
import { AGENT_PORT, GUEST_BOOT_DIR, hostRoot, labPaths, labSourceDir } from './paths.js';
import { type Progress, run, silent } from './run.js';

const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';
export const DEBIAN_PACKAGES = [
  'systemd-sysv',
  'udev',
  'kmod',
  'e2fsprogs',
  'iproute2',
  'qemu-guest-agent',
  'linux-image-cloud-amd64',
  'tpm2-tools',
  'efibootmgr',
];
const GUEST_FILES = [
  'customize.sh',
  'rehome-agent.sh',
  'rehome-agent-handler.sh',
  'firmware-state.sh',
  'rehome-signal.sh',
];
/** Virtual size of the guest's disk; about 420 MB of it is allocated. */
const DISK_SIZE_MIB = 1024;
const PARTITION_START_MIB = 1;
/** Bump when the steps of buildDebianImage change (the cache key covers its inputs, not its code). */
const IMAGE_LAYOUT = 'gpt-root1-v1';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const BOOT_KERNEL = `${GUEST_BOOT_DIR}/rehome-debian-vmlinuz`;
const BOOT_INITRD = `${GUEST_BOOT_DIR}/rehome-debian-initrd.img`;

export interface DebianImage {
  kernel: string;
  initrd: string;
  /** qcow2, GPT, root on partition 1. */
  disk: string;
}

/**
 * One image built by buildDebianImage: the lab guest, or a variant of it with more packages, more customize hooks
 * and a bigger disk (the Vagrant box of test/lab/vagrant-box.ts).
 */
export interface DebianImageVariant {
  /** Cache directory under the lab cache. */
  name: string;
  /** Packages besides DEBIAN_PACKAGES. */
  packages: readonly string[];
  /** Scripts run after the guest's customize.sh, as `sh SCRIPT ROOT`. */
  customize: readonly string[];
  diskMiB: number;
}

export const DEBIAN_GUEST: DebianImageVariant = {
  name: 'debian',
  packages: [],
  customize: [],
  diskMiB: DISK_SIZE_MIB,
};

function mmdebstrapArgv(rootDir: string, variant: DebianImageVariant = DEBIAN_GUEST): string[] {
  const guestDir = path.join(labSourceDir, 'guest-debian');
  return [
    'mmdebstrap',
    '--variant=apt',
    `--include=${[...DEBIAN_PACKAGES, ...variant.packages].join(',')}`,
    ...['doc', 'man', 'locale', 'info'].map((dir) => `--dpkgopt=path-exclude=/usr/share/${dir}/*`),
    '--aptopt=Acquire::Languages "none"',
    // A small initrd: only what mounts the root (ext4 is built into the cloud kernel). Set before the kernel's
    // postinst makes it.
    `--setup-hook=mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d" && echo MODULES=list >"$1/etc/initramfs-tools/conf.d/rehome.conf" && printf 'virtio_pci\\nvirtio_blk\\n' >"$1/usr/share/initramfs-tools/modules.d/rehome"`,
    `--customize-hook=sh ${path.join(guestDir, 'customize.sh')} "$1" ${guestDir}`,
    ...variant.customize.map((script) => `--customize-hook=sh ${script} "$1"`),
    SUITE,
    rootDir,
    MIRROR,
  ];
}

async function inputsDigest(variant: DebianImageVariant): Promise<string> {
  const hash = createHash('sha256');
  hash.update(
    `${IMAGE_LAYOUT}\0${mmdebstrapArgv('ROOT', variant).join('\0')}\0${variant.diskMiB}\0${PARTITION_START_MIB}\0`,
  );
  for (const file of GUEST_FILES) hash.update(await readFile(path.join(labSourceDir, 'guest-debian', file)));
  for (const script of variant.customize) hash.update(await readFile(script));
  return hash.digest('hex');
}

/** Builds (or finds in the cache) the Debian guest image: ~1 min with a reachable mirror, 0 s when cached. */
export async function buildDebianImage(
  progress: Progress = silent,
  variant: DebianImageVariant = DEBIAN_GUEST,
): Promise<DebianImage> {
  const cache = path.join(labPaths().cache, variant.name);
  const image = {
    kernel: path.join(cache, 'vmlinuz'),
    initrd: path.join(cache, 'initrd.img'),
    disk: path.join(cache, 'disk.qcow2'),
  };
  const digest = await inputsDigest(variant);
  const stamp = path.join(cache, 'stamp');
  const cached = await readFile(stamp, 'utf8').catch(() => '');
  if (
    cached === digest &&
    (await Promise.all(Object.values(image).map((f) => stat(f).catch(() => null)))).every(Boolean)
  )
    return image;
  progress(`building the Debian ${SUITE} image ${variant.name} with mmdebstrap (${MIRROR})`);
  await rm(cache, { recursive: true, force: true });
  await mkdir(cache, { recursive: true });
  // The chroot (with /proc, /sys, /dev mounted while mmdebstrap runs) lives outside the lab dir, whose teardown
  // unmounts what it finds mounted below it.
  const work = await mkdtemp(path.join(tmpdir(), 'rehome-debian-'));
  try {
    await buildInto(work, image, variant);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await writeFile(stamp, digest);
  return image;
}

async function buildInto(work: string, image: DebianImage, variant: DebianImageVariant): Promise<void> {
  const rootDir = path.join(work, 'root');
  await run(mmdebstrapArgv(rootDir, variant), { timeout: 900_000 });
  const boot = await readdir(path.join(rootDir, 'boot'));
  const kernel = boot.find((name) => /^vmlinuz-.*-cloud-amd64$/.test(name));
  const initrd = boot.find((name) => /^initrd\.img-.*-cloud-amd64$/.test(name));
  if (!kernel || !initrd)
    throw new Error(`no cloud kernel and initrd in the image's /boot: ${boot.join(' ')}`);
  await cp(path.join(rootDir, 'boot', kernel), image.kernel);
  await cp(path.join(rootDir, 'boot', initrd), image.initrd);
  // GPT with one Linux partition, the ext4 root written straight into it (mkfs.ext4 -E offset): no loop device.
  const raw = path.join(work, 'disk.raw');
  await run(['truncate', '-s', `${variant.diskMiB}M`, raw]);
  await run(['sfdisk', '--quiet', raw], {
    input: `label: gpt\nstart=${PARTITION_START_MIB}MiB, size=${variant.diskMiB - 2}MiB, type=linux, name=root\n`,
  });
  await run([
    'mkfs.ext4',
    '-q',
    '-F',
    '-L',
    'root',
    '-E',
    `offset=${PARTITION_START_MIB * 1024 * 1024}`,
    '-d',
    rootDir,
    raw,
    `${(variant.diskMiB - 2) * 1024}k`,
  ]);
  await run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, image.disk]);
}

export interface DebianGuestOptions {
  host: string;
  /** OVMF with an NVRAM file from the template, and a vTPM (swtpm); otherwise SeaBIOS, no TPM. */
  uefi: boolean;
  mac?: string;
  progress?: Progress;
}

export function debianDomainXml(name: string, mac: string, uefi: boolean): string {
  const firmware = uefi
    ? `    <loader readonly='yes' type='pflash'>${OVMF_CODE}</loader>\n    <nvram template='${OVMF_VARS}'/>\n`
    : '';
  // tpm-tis, not tpm-crb: with OVMF 2022.11 and QEMU 7.2 under TCG, a guest with a CRB TPM never boots again after a
  // reset in the same QEMU process (measured: OVMF clears the screen and stops), a TIS one does.
  const tpm = uefi
    ? `    <tpm model='tpm-tis'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n`
    : '';
  return labDomainXml(name, mac, {
    memoryMiB: 512,
    os: [
      "    <type arch='x86_64' machine='q35'>hvm</type>",
      `${firmware}    <kernel>${BOOT_KERNEL}</kernel>`,
      `    <initrd>${BOOT_INITRD}</initrd>`,
      '    <cmdline>root=/dev/vda1 ro console=ttyS0 quiet systemd.show_status=0 net.ifnames=1</cmdline>',
      '',
    ].join('\n'),
    extraDevices: `    <channel type='unix'>\n      <target type='virtio' name='org.qemu.guest_agent.0'/>\n    </channel>\n${tpm}`,
  });
}

/**
 * Defines and starts a Debian guest on a host; returns at once (wait with waitForAgent). The kernel and initrd go to
 * every lab host (a domain's definition must stay valid on its target), the disk only to `host`.
 */
export async function defineDebianGuest(name: string, options: DebianGuestOptions): Promise<LabGuest> {
  const state = await labState();
  if (!state?.hosts.includes(options.host)) throw new Error(`no lab host ${options.host}`);
  const image = await buildDebianImage(options.progress);
  for (const host of state.hosts) {
    const bootDir = path.join(hostRoot(host), GUEST_BOOT_DIR);
    await mkdir(bootDir, { recursive: true });
    await cp(image.kernel, path.join(hostRoot(host), BOOT_KERNEL));
    await cp(image.initrd, path.join(hostRoot(host), BOOT_INITRD));
  }
  const mac = (options.mac ?? macForName(name)).toLowerCase();
  const ip = await leaseFor(name, mac);
  const root = hostRoot(options.host);
  await mkdir(path.join(root, path.dirname(guestDiskPath(name))), { recursive: true });
  await cp(image.disk, path.join(root, guestDiskPath(name)), { force: false, errorOnExist: true });
  const xmlInHost = `/var/lib/libvirt/rehome-lab/${name}.xml`;
  await mkdir(path.join(root, path.dirname(xmlInHost)), { recursive: true });
  await writeFile(path.join(root, xmlInHost), debianDomainXml(name, mac, options.uefi));
  await virsh(options.host, ['define', xmlInHost]);
  await virsh(options.host, ['start', name]);
  return { name, host: options.host, mac, ip };
}

/** One command to the guest's agent (TCP 7777), its one-line answer. */
export async function debianAgent(ip: string, command: string, timeoutMs = 30_000): Promise<string> {
  const { stdout } = await labSh(
    ['busybox', 'nc', '-w', String(Math.ceil(timeoutMs / 1000)), ip, String(AGENT_PORT)],
    {
      input: `${command}\n`,
      timeoutMs: timeoutMs + 5_000,
    },
  );
  return stdout.trim();
}

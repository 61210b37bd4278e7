import { cp, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { GuestImage } from './build.js';
import {
  GUEST_BOOT_DIR,
  hostAddress,
  hostNamespace,
  hostRoot,
  LAB_CERT_DIR,
  labPaths,
  labSourceDir,
} from './paths.js';
import { processComm, readPidFile, recordedProcesses, recordPid } from './pids.js';
import { run, runMaybe, spawnDetached, waitFor } from './run.js';

export interface HostInputs {
  holder: string;
  guestImage: GuestImage;
  operatorPublicKey: string;
  /** Seed for /var/cache/libvirt/qemu, so that libvirtd skips its ~8 s QEMU probe. */
  capabilityCache?: string;
}

/** Writes the host's private tree with the shared provisioning script (also used by vagrant/). */
export async function provisionHost(name: string, inputs: HostInputs): Promise<void> {
  const root = hostRoot(name);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await run(['sh', path.join(labSourceDir, 'provision-host.sh')], {
    env: {
      REHOME_ROOT: root,
      REHOME_HOST_NAME: name,
      REHOME_CERT_SRC: path.join(labPaths().pki, name),
      REHOME_CERT_DIR: LAB_CERT_DIR,
      REHOME_AUTHORIZED_KEY: inputs.operatorPublicKey,
      REHOME_NO_CGROUPS: '1',
    },
  });
  // Same kernel and initrd path on every host: a guest's domain XML must stay valid when redefined elsewhere.
  const bootDir = path.join(root, GUEST_BOOT_DIR);
  await mkdir(bootDir, { recursive: true });
  await cp(inputs.guestImage.kernel, path.join(bootDir, 'rehome-lab-vmlinuz'));
  await cp(inputs.guestImage.initrd, path.join(bootDir, 'rehome-lab-initrd.gz'));
  if (inputs.capabilityCache) {
    await cp(inputs.capabilityCache, path.join(root, 'var/cache/libvirt/qemu'), { recursive: true });
  }
}

/** Starts the host's holder (subreaper) in the host's namespaces; it runs host-init.sh. Returns the holder's PID. */
export async function startHost(name: string, holder: string): Promise<number> {
  const root = hostRoot(name);
  const pid = await spawnDetached(path.join(root, 'host.log'), [
    'ip',
    'netns',
    'exec',
    hostNamespace(name),
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    holder,
    '/bin/sh',
    path.join(labSourceDir, 'host-init.sh'),
    root,
    name,
    hostAddress(name),
  ]);
  await waitFor(
    `${name} to start virtlogd, libvirtd and sshd (see ${root}/host.log)`,
    async () => {
      if (!(await processComm(pid))) throw new Error(`${name}: host-init failed, see ${root}/host.log`);
      return (await stat(path.join(root, 'ready')).catch(() => undefined)) ? true : undefined;
    },
    20_000,
    25,
  );
  await recordPid(`${name}.holder`, pid);
  for (const daemon of ['virtlogd', 'libvirtd', 'sshd']) {
    const daemonPid = await readPidFile(path.join(root, 'run', `${daemon}.pid`));
    if (daemonPid) await recordPid(`${name}.${daemon}`, daemonPid);
  }
  return pid;
}

/** PID of the host's holder, whose namespaces are the host's (for nsenter). */
export async function holderPid(name: string): Promise<number | undefined> {
  const entry = (await recordedProcesses()).find((p) => p.label === `${name}.holder`);
  if (!entry || (await processComm(entry.pid)) !== entry.comm) return undefined;
  return entry.pid;
}

/** Runs argv inside the host (its network, mount and uts namespaces), from the root namespace. */
export async function inHost(name: string, argv: string[]) {
  const pid = await holderPid(name);
  if (!pid) throw new Error(`${name} is not running`);
  return runMaybe(['nsenter', '-t', String(pid), '-m', '-u', '-n', '--', ...argv]);
}

/** Makes libvirtd on the host probe QEMU now, and returns its capability cache dir. */
export async function warmCapabilities(name: string): Promise<string> {
  await run([
    'nsenter',
    '-t',
    String(await holderPid(name)),
    '-m',
    '-u',
    '-n',
    '--',
    'virsh',
    'domcapabilities',
    '--virttype',
    'qemu',
  ]);
  return path.join(hostRoot(name), 'var/cache/libvirt/qemu');
}

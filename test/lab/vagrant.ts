/**
 * One host of vagrant/Vagrantfile brought up for real, inside the namespace lab: Vagrant and vagrant-libvirt run in
 * lab-a's namespaces and drive lab-a's libvirtd through its socket (qemu:///system there), under TCG. The
 * management network vagrant-libvirt makes (NAT + dnsmasq) lives in lab-a's namespace; the Vagrant VM's lab NIC is
 * bridged onto lab-a's br0, so the operator namespace reaches it like any lab host. The box is the lab's own
 * (test/lab/vagrant-box.ts): the Vagrantfile's provisioning runs without a route out.
 * Everything Vagrant keeps (its home with the box, the machine state, the fleet keys) lives in .lab/vagrant.
 */
import { appendFile, cp, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { holderPid } from './hosts.js';
import { operatorFiles, sshConfigEntry } from './operator.js';
import { GUEST_BOOT_DIR, hostRoot, labPaths } from './paths.js';
import { type Progress, type RunResult, run, runMaybe, silent } from './run.js';
import { BOX_INITRD, BOX_KERNEL, BOX_NAME, buildVagrantBox, VAGRANT_DIR } from './vagrant-box.js';

/** The lab host whose libvirtd runs the Vagrant VM. */
export const VAGRANT_LIBVIRT_HOST = 'lab-a';
export const VAGRANT_HOST = 'vg-a';
/** On the lab segment, clear of the lab hosts (.11 and up) and the guests' leases (.100 and up). */
export const VAGRANT_HOST_ADDRESS = '10.203.0.61';
/** TCG boots the box and its systemd in about a minute on an idle machine; the provisioning adds little. */
const UP_TIMEOUT_MS = 15 * 60_000;

function vagrantPaths() {
  const root = path.join(labPaths().root, 'vagrant');
  return {
    root,
    home: path.join(root, 'home'),
    dotfile: path.join(root, 'machines'),
    pki: path.join(root, 'pki'),
    log: path.join(root, 'vagrant.log'),
  };
}

function vagrantEnv(): Record<string, string> {
  const paths = vagrantPaths();
  return {
    VAGRANT_HOME: paths.home,
    VAGRANT_CWD: VAGRANT_DIR,
    VAGRANT_DOTFILE_PATH: paths.dotfile,
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_DEFAULT_PROVIDER: 'libvirt',
    VAGRANT_NO_COLOR: '1',
    REHOME_VAGRANT_HOSTS: `${VAGRANT_HOST}=${VAGRANT_HOST_ADDRESS}`,
    REHOME_VAGRANT_BOX: BOX_NAME,
    REHOME_VAGRANT_PKI: paths.pki,
    REHOME_VAGRANT_BRIDGE: 'br0',
    REHOME_VAGRANT_TCG: '1',
  };
}

/** `vagrant ARGS` in lab-a's network, mount and uts namespaces; its output is appended to .lab/vagrant/vagrant.log. */
export async function vagrant(
  args: readonly string[],
  options: { timeoutMs?: number; reject?: boolean } = {},
): Promise<RunResult> {
  const pid = await holderPid(VAGRANT_LIBVIRT_HOST);
  if (!pid) throw new Error(`${VAGRANT_LIBVIRT_HOST} is not running`);
  const env = Object.entries(vagrantEnv()).map(([key, value]) => `${key}=${value}`);
  // --no-tty: plain lines, without the progress meter's thousands of updates while the box uploads.
  const argv = [
    'nsenter',
    '-t',
    String(pid),
    '-m',
    '-u',
    '-n',
    '--',
    'env',
    ...env,
    'vagrant',
    '--no-tty',
    ...args,
  ];
  const result = await runMaybe(argv, { timeout: options.timeoutMs ?? 120_000 });
  await appendFile(
    vagrantPaths().log,
    `$ vagrant ${args.join(' ')} (exit ${result.exitCode})\n${result.stdout}\n${result.stderr}\n`,
  );
  if (result.exitCode !== 0 && options.reject !== false) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`vagrant ${args.join(' ')} exited ${result.exitCode}:\n${tail}`);
  }
  return result;
}

export interface VagrantUpTimings {
  /** Building (or finding in the cache) the box image and the .box file. */
  boxMs: number;
  /** `vagrant box add` of the local .box file. */
  addMs: number;
  /** `vagrant up`: box upload into lab-a's pool, boot under TCG, the Vagrantfile's provisioners. */
  upMs: number;
}

/**
 * Brings VAGRANT_HOST up from vagrant/Vagrantfile on lab-a (the lab must be up), then lets the operator reach it:
 * its ssh config entry (root, the fleet operator key the Vagrantfile installed) and its host key, read through
 * `vagrant ssh`.
 */
export async function vagrantHostUp(progress: Progress = silent): Promise<VagrantUpTimings> {
  const paths = vagrantPaths();
  await rm(paths.root, { recursive: true, force: true });
  await mkdir(paths.root, { recursive: true });
  let mark = Date.now();
  const box = await buildVagrantBox(paths.root, progress);
  const boxMs = Date.now() - mark;

  mark = Date.now();
  progress(`vagrant box add ${BOX_NAME}`);
  await run(['vagrant', 'box', 'add', '--name', BOX_NAME, box.box], {
    env: vagrantEnv(),
    timeout: 300_000,
  });
  const addMs = Date.now() - mark;
  await rm(box.box);
  const bootDir = path.join(hostRoot(VAGRANT_LIBVIRT_HOST), GUEST_BOOT_DIR);
  await mkdir(bootDir, { recursive: true });
  await cp(box.kernel, path.join(hostRoot(VAGRANT_LIBVIRT_HOST), BOX_KERNEL));
  await cp(box.initrd, path.join(hostRoot(VAGRANT_LIBVIRT_HOST), BOX_INITRD));

  mark = Date.now();
  progress(`vagrant up ${VAGRANT_HOST} on ${VAGRANT_LIBVIRT_HOST} (TCG)`);
  try {
    await vagrant(['up', VAGRANT_HOST, '--provider', 'libvirt'], { timeoutMs: UP_TIMEOUT_MS });
  } catch (error) {
    // The domain's QEMU log and console outlive the lab in .lab/vagrant.
    await cp(
      path.join(hostRoot(VAGRANT_LIBVIRT_HOST), 'var/log/libvirt/qemu'),
      path.join(paths.root, 'qemu-logs'),
      {
        recursive: true,
      },
    ).catch(() => undefined);
    throw error;
  }
  const upMs = Date.now() - mark;

  const { stdout } = await vagrant(['ssh', VAGRANT_HOST, '-c', 'cat /etc/ssh/ssh_host_ed25519_key.pub']);
  const [type, key] = stdout.trim().split(/\s+/);
  if (!type?.startsWith('ssh-ed25519') || !key)
    throw new Error(`no host key from ${VAGRANT_HOST}: ${stdout}`);
  const files = operatorFiles();
  await appendFile(files.knownHosts, `${VAGRANT_HOST},${VAGRANT_HOST_ADDRESS} ${type} ${key}\n`);
  await appendFile(
    files.sshConfig,
    `\n${sshConfigEntry(VAGRANT_HOST, VAGRANT_HOST_ADDRESS, path.join(paths.pki, 'operator_ed25519'))}`,
  );
  return { boxMs, addMs, upMs };
}

/**
 * `vagrant destroy` while lab-a still runs, then Vagrant's home (the added box), its machine state and keys; the
 * log stays. Safe to call whatever happened before; call it before the lab goes down.
 */
export async function vagrantHostDown(progress: Progress = silent): Promise<void> {
  const paths = vagrantPaths();
  const machines = await readFile(path.join(paths.dotfile, 'machines', VAGRANT_HOST, 'libvirt', 'id'), 'utf8')
    .then(() => true)
    .catch(() => false);
  if (machines && (await holderPid(VAGRANT_LIBVIRT_HOST))) {
    progress(`vagrant destroy ${VAGRANT_HOST}`);
    await vagrant(['destroy', '--force', VAGRANT_HOST], { reject: false, timeoutMs: 300_000 });
  }
  for (const name of ['home', 'machines', 'pki', 'rehome-lab.box', 'metadata.json', 'Vagrantfile'])
    await rm(path.join(paths.root, name), { recursive: true, force: true });
}

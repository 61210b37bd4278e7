/** Which firmware files and swtpm binaries the hosts have, for the guests that need them. One `find` per host. */
import type { HostFacts, VmFacts } from '../placement/types.js';
import type { NodeShell } from './node-commands.js';

const TIMEOUT_MS = 15_000;
/** Where distributions install swtpm and swtpm_setup; libvirt needs both for an emulated TPM. */
const SWTPM_DIRS = ['/usr/bin', '/usr/local/bin'];
const SWTPM_BINARIES = ['swtpm', 'swtpm_setup'];

/**
 * Adds to each host whether the loader files of `vms` exist there and whether swtpm is installed (when a VM has a
 * vTPM). A host that cannot be asked keeps these facts unknown, which the firmware filter treats as missing.
 */
export async function probeFirmware(
  hosts: readonly HostFacts[],
  vms: readonly VmFacts[],
  ssh: (host: string) => Promise<NodeShell>,
): Promise<HostFacts[]> {
  const loaders = [...new Set(vms.flatMap((vm) => (vm.firmware?.loader ? [vm.firmware.loader] : [])))].sort();
  const tpm = vms.some((vm) => vm.firmware?.tpm);
  if (loaders.length === 0 && !tpm) return [...hosts];
  const swtpmPaths = tpm ? SWTPM_DIRS.flatMap((dir) => SWTPM_BINARIES.map((bin) => `${dir}/${bin}`)) : [];
  return Promise.all(
    hosts.map(async (host) => {
      let present: Set<string>;
      try {
        present = await existingPaths(await ssh(host.name), [...loaders, ...swtpmPaths]);
      } catch {
        return host;
      }
      const files = Object.fromEntries(loaders.map((path) => [path, present.has(path)]));
      const swtpm = tpm
        ? SWTPM_DIRS.some((dir) => SWTPM_BINARIES.every((bin) => present.has(`${dir}/${bin}`)))
        : undefined;
      return {
        ...host,
        firmware: {
          ...host.firmware,
          files: { ...host.firmware?.files, ...files },
          ...(tpm ? { swtpm } : {}),
        },
      };
    }),
  );
}

/**
 * Which of `paths` are regular files, symlinks followed (`find -L PATHS -maxdepth 0 -type f`: it prints those, and
 * exits 1 when some are missing). Only absolute paths are asked: find would read others as expressions.
 */
export async function existingPaths(ssh: NodeShell, paths: readonly string[]): Promise<Set<string>> {
  const asked = paths.filter((path) => path.startsWith('/'));
  if (asked.length === 0) return new Set();
  const result = await ssh.exec(['find', '-L', ...asked, '-maxdepth', '0', '-type', 'f', '-print'], {
    timeoutMs: TIMEOUT_MS,
  });
  if (result.code !== 0 && result.code !== 1) {
    throw new Error(`find on ${ssh.name} exited ${result.code ?? result.signal}: ${result.stderr.trim()}`);
  }
  return new Set(result.stdout.split('\n').filter((line) => asked.includes(line)));
}

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hostAddress, hostRoot, LAB_CERT_DIR, labPaths, OPERATOR_NS, repoDir } from './paths.js';
import { run } from './run.js';

export function operatorFiles(home = labPaths().operatorHome) {
  return {
    home,
    bin: path.join(home, 'bin'),
    key: path.join(home, '.ssh', 'id_ed25519'),
    sshConfig: path.join(home, '.ssh', 'config'),
    knownHosts: path.join(home, '.ssh', 'known_hosts'),
    rehomeConfig: path.join(home, '.config', 'rehome', 'config.yaml'),
  };
}

/** A throwaway ed25519 key for the operator. Returns the public key file. */
export async function makeOperatorKey(): Promise<string> {
  const files = operatorFiles();
  await mkdir(path.dirname(files.key), { recursive: true, mode: 0o700 });
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'rehome-lab-operator', '-f', files.key]);
  return `${files.key}.pub`;
}

/** The operator's ~/.ssh/config entry for one host: root, this key, host keys checked against its known_hosts. */
export function sshConfigEntry(name: string, address: string, key: string): string {
  return [
    `Host ${name}`,
    `  HostName ${address}`,
    '  User root',
    `  IdentityFile ${key}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${operatorFiles().knownHosts}`,
    '  StrictHostKeyChecking yes',
    '  ConnectTimeout 5',
    '',
  ].join('\n');
}

/**
 * ~/.ssh/config and known_hosts for the lab hosts, a rehome config naming them, and wrappers in ~/bin.
 * OpenSSH reads ~/.ssh from the passwd entry, not $HOME, so the ssh and scp wrappers pass -F explicitly.
 */
export async function writeOperatorHome(hosts: string[]): Promise<void> {
  const files = operatorFiles();
  const sshConfig = hosts.map((name) => sshConfigEntry(name, hostAddress(name), files.key)).join('\n');
  await writeFile(files.sshConfig, sshConfig, { mode: 0o600 });

  const knownHosts: string[] = [];
  for (const name of hosts) {
    const publicKey = await readFile(path.join(hostRoot(name), 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8');
    const [type, key] = publicKey.trim().split(/\s+/);
    knownHosts.push(`${name},${hostAddress(name)} ${type} ${key}`);
  }
  await writeFile(files.knownHosts, `${knownHosts.join('\n')}\n`, { mode: 0o600 });

  await mkdir(files.bin, { recursive: true });
  const wrappers: Record<string, string> = {
    ssh: `exec /usr/bin/ssh -F ${files.sshConfig} "$@"`,
    scp: `exec /usr/bin/scp -F ${files.sshConfig} "$@"`,
    rehome: [
      `if [ -d ${repoDir}/dist ]; then exec node ${repoDir}/bin/run.js "$@"; fi`,
      `exec node --import ${repoDir}/node_modules/tsx/dist/loader.mjs --no-warnings ${repoDir}/bin/dev.js "$@"`,
    ].join('\n'),
  };
  for (const [name, body] of Object.entries(wrappers)) {
    const file = path.join(files.bin, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
  }

  await mkdir(path.dirname(files.rehomeConfig), { recursive: true });
  const config = [
    'hosts:',
    ...hosts.flatMap((name) => [
      `  - name: ${name}`,
      `    address: ${name}`,
      '    labels: {}',
      '    imageDir: /var/lib/libvirt/images',
    ]),
    'tls:',
    `  certDir: ${LAB_CERT_DIR}`,
    '',
  ].join('\n');
  // 0600 as an operator keeps it (it may hold secrets): rehome warns about a config others can read.
  await writeFile(files.rehomeConfig, config, { mode: 0o600 });
  await chmod(files.rehomeConfig, 0o600);
}

/**
 * argv that runs CMD as the lab operator: in the operator namespace, with the operator's HOME and PATH. NO_COLOR
 * keeps output plain when this runs under CI (CI=true alone makes the colour library emit escapes into pipes).
 */
export function operatorArgv(argv: readonly string[]): string[] {
  const files = operatorFiles();
  return [
    'ip',
    'netns',
    'exec',
    OPERATOR_NS,
    'env',
    `HOME=${files.home}`,
    `PATH=${files.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    `REHOME_LAB_DIR=${labPaths().root}`,
    'NO_COLOR=1',
    ...argv,
  ];
}

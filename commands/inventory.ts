import { Args, Flags } from '@oclif/core';
import { formatInventory } from '../src/app/format/inventory.js';
import { withInventoryProgress } from '../src/app/progress/inventory.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { progressMode } from '../src/cli/progress-lines.js';
import { configPath, loadConfig } from '../src/config/config-file.js';
import { sshOptionsFromConfig } from '../src/config/ssh-options.js';
import { RehomeError } from '../src/errors.js';
import { SshPool } from '../src/host/ssh-pool.js';
import { inventoryHosts } from '../src/inventory/inventory.js';
import type { Inventory } from '../src/inventory/types.js';
import { HostConnections } from '../src/libvirt/host-connections.js';

export interface InventoryResult extends Inventory {
  /** Host keys appended to known_hosts because of --accept-unknown-host-keys (or the config setting). */
  hostKeysRecorded: { host: string; file: string }[];
}

export default class InventoryCommand extends BaseCommand {
  static override summary = 'Read the facts of hosts and their domains, all hosts in parallel';
  static override description =
    'Per host: CPU, cores, memory, free space in the image directory, bridges, libvirt networks, libvirt and QEMU ' +
    'versions. Per domain: state, vCPUs, memory, CPU mode, disks (local or network, with sizes), NICs and owner. ' +
    'A host that cannot be read is reported with the reason, the others still are, and the exit code is 4.';
  static override examples = [
    '<%= config.bin %> inventory',
    '<%= config.bin %> inventory kvm7 kvm8 --json',
    '<%= config.bin %> inventory newhost --accept-unknown-host-keys',
  ];
  static override strict = false;
  static override args = {
    host: Args.string({ description: 'Hosts to read (names from the rehome config); default: all' }),
  };
  static override flags = {
    'accept-unknown-host-keys': Flags.boolean({
      description:
        'Trust and record host keys not yet in known_hosts (check the fingerprints first). A changed key is still refused.',
      default: false,
    }),
  };

  async run(): Promise<InventoryResult> {
    const { argv, flags } = await this.parse(InventoryCommand);
    const { config } = await loadConfig(configPath(this.config.configDir, flags.config));
    const hosts = selectHosts(config.hosts, argv as string[]);
    const hostKeysRecorded: InventoryResult['hostKeysRecorded'] = [];
    const pool = new SshPool({
      ...sshOptionsFromConfig(config),
      ...(flags['accept-unknown-host-keys'] ? { acceptUnknownHostKeys: true } : {}),
      onHostKeyAdded: (event) => hostKeysRecorded.push(event),
    });
    const connections = new HostConnections(hosts, pool);
    const mode = progressMode({ json: this.jsonEnabled(), isTty: process.stderr.isTTY === true });
    let inventory: Inventory;
    try {
      inventory = await withInventoryProgress(
        hosts.map((host) => host.name),
        mode,
        (callbacks) =>
          inventoryHosts(hosts, connections, {
            ...callbacks,
            sharedPrefixes: config.storage?.sharedPrefixes ?? [],
          }),
      );
    } finally {
      await connections.closeAll();
    }
    const failed = inventory.hosts.filter((host) => !host.ok).map((host) => host.name);
    if (!this.jsonEnabled()) {
      for (const { host, file } of hostKeysRecorded)
        this.logToStderr(`Recorded the host key of ${host} in ${file}`);
      this.log(formatInventory(inventory));
      if (failed.length > 0) this.logToStderr(`Could not read ${failed.join(', ')} (see above)`);
    }
    if (failed.length > 0) process.exitCode = ExitCode.hostUnreachable;
    return { ...inventory, hostKeysRecorded };
  }
}

function selectHosts<T extends { name: string }>(configured: readonly T[], wanted: readonly string[]): T[] {
  if (configured.length === 0) {
    throw new RehomeError('No hosts configured', 'config', [], { subject: { code: 'no-hosts' } });
  }
  if (wanted.length === 0) return [...configured];
  const unknown = wanted.filter((name) => !configured.some((host) => host.name === name));
  if (unknown.length > 0) {
    throw new RehomeError(
      `Unknown host${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')}`,
      'not-found',
      [`Known hosts: ${configured.map((host) => host.name).join(', ')}`],
    );
  }
  return [...new Set(wanted)].map((name) => configured.find((host) => host.name === name) as T);
}

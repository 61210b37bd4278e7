import { Args, Flags } from '@oclif/core';
import { formatInventory } from '../src/app/format/inventory.js';
import { type InventoryResult, readInventory } from '../src/app/inventory.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { exitCodeForHostFailures } from '../src/cli/exit-codes.js';

export type { InventoryResult };

export default class InventoryCommand extends BaseCommand {
  static override summary = 'Read the facts of hosts and their domains, all hosts in parallel';
  static override description =
    'Per host: CPU, cores, memory, free space in the image directory, bridges, libvirt networks, libvirt and QEMU ' +
    'versions. Per domain: state, vCPUs, memory, CPU mode, disks (local or network, with sizes), NICs and owner. ' +
    'A host that cannot be read is reported with the reason, the others still are, and the exit code is 4 (5 when ' +
    'a host key was refused).';
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
    const result = await readInventory(
      this.runtimePaths(flags),
      { hosts: argv as string[], acceptUnknownHostKeys: flags['accept-unknown-host-keys'] },
      this.progressMode(),
    );
    const failures = result.hosts.filter((host) => !host.ok);
    const failed = failures.map((host) => host.name);
    if (!this.jsonEnabled()) {
      for (const { host, file } of result.hostKeysRecorded)
        this.logToStderr(`Recorded the host key of ${host} in ${file}`);
      this.log(formatInventory(result));
      if (failed.length > 0) this.logToStderr(`Could not read ${failed.join(', ')} (see above)`);
    }
    if (failures.length > 0)
      process.exitCode = exitCodeForHostFailures(failures.map((host) => host.error.kind));
    return result;
  }
}

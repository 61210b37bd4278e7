import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../src/cli/base-command.js';
import { configPath, loadConfig } from '../../src/config/config-file.js';
import { sshOptionsFromConfig } from '../../src/config/ssh-options.js';
import { SshPool } from '../../src/host/ssh-pool.js';
import { HostConnections } from '../../src/libvirt/host-connections.js';
import { type SetOwnerResult, setVmOwner } from '../../src/notify/owner-set.js';

export default class OwnerSet extends BaseCommand {
  static override summary = "Record a VM's owner in its libvirt metadata";
  static override description =
    'The owner gets the notices about moving the VM. It is written into the domain (live and in its persistent ' +
    'definition) as <rehome:owner>, so it travels with the VM and wins over the owners: mapping in the config.';
  static override examples = [
    '<%= config.bin %> owner set web-1 alice@example.com',
    '<%= config.bin %> owner set web-1 alice@example.com --time-zone Europe/Paris --host kvm7',
  ];
  static override args = {
    vm: Args.string({ description: 'Domain name', required: true }),
    address: Args.string({
      description: "The owner's address (e-mail, or an id your webhook understands)",
      required: true,
    }),
  };
  static override flags = {
    host: Flags.string({
      description: 'The host the VM is defined on (default: search every configured host)',
    }),
    'time-zone': Flags.string({ description: "The owner's IANA time zone, for deadlines in notices" }),
  };

  async run(): Promise<SetOwnerResult> {
    const { args, flags } = await this.parse(OwnerSet);
    const { config } = await loadConfig(configPath(this.config.configDir, flags.config));
    const connections = new HostConnections(config.hosts, new SshPool(sshOptionsFromConfig(config)));
    try {
      const result = await setVmOwner({
        vm: args.vm,
        address: args.address,
        timeZone: flags['time-zone'],
        host: flags.host,
        hosts: config.hosts.map((host) => host.name),
        connect: (host) => connections.libvirt(host),
      });
      if (!this.jsonEnabled()) {
        const zone = result.owner.timeZone ? ` (${result.owner.timeZone})` : '';
        this.log(
          `Owner of ${result.vm} on ${result.host}: ${result.owner.address}${zone} [${result.applied.join(', ')}]`,
        );
        for (const skipped of result.unreachable)
          this.warn(`could not search ${skipped.host}: ${skipped.error}`);
      }
      return result;
    } finally {
      await connections.closeAll();
    }
  }
}

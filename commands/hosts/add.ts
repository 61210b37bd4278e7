import { Args, Flags } from '@oclif/core';
import { formatHostAdded } from '../../src/app/format/hosts.js';
import { addConfiguredHost, type HostsAddResult } from '../../src/app/hosts.js';
import { BaseCommand } from '../../src/cli/base-command.js';
import { parseLabels } from '../../src/config/hosts.js';

export default class HostsAdd extends BaseCommand {
  static override summary = 'Add a hypervisor host to the rehome config';
  static override description =
    'The address is an ssh destination: rehome resolves it with `ssh -G`, so everything in ~/.ssh/config ' +
    '(HostName, User, Port, IdentityFile, ProxyJump) applies. Nothing is contacted here.';
  static override examples = [
    '<%= config.bin %> hosts add lab-a --address root@10.0.0.11',
    '<%= config.bin %> hosts add kvm7 --address kvm7.example.net --label zone=z1 --label rack=r4',
    '<%= config.bin %> hosts add kvm8 --address kvm8 --image-dir /srv/images --json',
  ];
  static override args = {
    name: Args.string({
      description: 'Name of the host in rehome (letters, digits, ".", "_", "-")',
      required: true,
    }),
  };
  static override flags = {
    address: Flags.string({ description: 'ssh destination ([user@]host); defaults to NAME' }),
    label: Flags.string({
      aliases: ['labels'],
      description: 'A label key=value (repeatable), used by placement',
      multiple: true,
      default: [],
    }),
    'image-dir': Flags.string({ description: 'Directory for disk images on that host (absolute path)' }),
  };

  async run(): Promise<HostsAddResult> {
    const { args, flags } = await this.parse(HostsAdd);
    const result = await addConfiguredHost(this.runtimePaths(flags), {
      name: args.name,
      address: flags.address,
      labels: parseLabels(flags.label),
      imageDir: flags['image-dir'],
    });
    if (!this.jsonEnabled()) this.log(formatHostAdded(result));
    return result;
  }
}

import { Args } from '@oclif/core';
import { formatHostRemoved } from '../../src/app/format/hosts.js';
import { type HostsRemoveResult, removeConfiguredHost } from '../../src/app/hosts.js';
import { BaseCommand } from '../../src/cli/base-command.js';

export default class HostsRemove extends BaseCommand {
  static override summary = 'Remove a hypervisor host from the rehome config';
  static override description = 'Only the config entry goes; nothing on the host is touched.';
  static override examples = [
    '<%= config.bin %> hosts remove lab-a',
    '<%= config.bin %> hosts remove lab-a --json',
  ];
  static override args = {
    name: Args.string({ description: 'Name of the host in rehome', required: true }),
  };

  async run(): Promise<HostsRemoveResult> {
    const { args, flags } = await this.parse(HostsRemove);
    const result = await removeConfiguredHost(this.runtimePaths(flags), args.name);
    if (!this.jsonEnabled()) this.log(formatHostRemoved(result));
    return result;
  }
}

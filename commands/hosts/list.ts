import { formatHostsTable } from '../../src/app/format/hosts.js';
import { type HostsListResult, listHosts } from '../../src/app/hosts.js';
import { BaseCommand } from '../../src/cli/base-command.js';

export default class HostsList extends BaseCommand {
  static override summary = 'List the hypervisor hosts in the rehome config';
  static override examples = ['<%= config.bin %> hosts list', '<%= config.bin %> hosts list --json'];

  async run(): Promise<HostsListResult> {
    const { flags } = await this.parse(HostsList);
    const result = await listHosts(this.runtimePaths(flags));
    if (!this.jsonEnabled()) this.log(formatHostsTable(result.hosts));
    return result;
  }
}

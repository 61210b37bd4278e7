import { formatHostsTable } from '../../src/app/format/hosts.js';
import { BaseCommand } from '../../src/cli/base-command.js';
import { configPath, loadConfig } from '../../src/config/config-file.js';
import type { HostConfig } from '../../src/config/schema.js';

export interface HostsListResult {
  configPath: string;
  hosts: HostConfig[];
}

export default class HostsList extends BaseCommand {
  static override summary = 'List the hypervisor hosts in the rehome config';
  static override examples = ['<%= config.bin %> hosts list', '<%= config.bin %> hosts list --json'];

  async run(): Promise<HostsListResult> {
    const { flags } = await this.parse(HostsList);
    const loaded = await loadConfig(configPath(this.config.configDir, flags.config));
    if (!this.jsonEnabled()) this.log(formatHostsTable(loaded.config.hosts));
    return { configPath: loaded.path, hosts: loaded.config.hosts };
  }
}

import { Args } from '@oclif/core';
import { BaseCommand } from '../../src/cli/base-command.js';
import { configPath, loadConfig, saveConfig } from '../../src/config/config-file.js';
import { removeHost } from '../../src/config/hosts.js';
import type { HostConfig } from '../../src/config/schema.js';

export interface HostsRemoveResult {
  configPath: string;
  removed: HostConfig;
}

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
    const loaded = await loadConfig(configPath(this.config.configDir, flags.config));
    const removed = removeHost(loaded, args.name);
    await saveConfig(loaded);
    if (!this.jsonEnabled()) this.log(`Removed host ${removed.name} from ${loaded.path}`);
    return { configPath: loaded.path, removed };
  }
}

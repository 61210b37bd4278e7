import { Args } from '@oclif/core';
import { storePath } from '../../src/app/runtime.js';
import { BaseCommand } from '../../src/cli/base-command.js';
import { configPath, loadConfig } from '../../src/config/config-file.js';
import { type CordonResult, cordonHost } from '../../src/drain/cordon.js';
import { requireConfiguredHost } from '../../src/drain/make-plan.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

export default class HostsCordon extends BaseCommand {
  static override summary = 'Stop placing VMs on a host (its own VMs stay where they are)';
  static override description =
    'Kept in the rehome state database. A host that is already cordoned or draining is left as it is.';
  static override examples = [
    '<%= config.bin %> hosts cordon lab-a',
    '<%= config.bin %> hosts cordon lab-a --json',
  ];
  static override args = {
    host: Args.string({ description: 'Host name from the rehome config', required: true }),
  };

  async run(): Promise<CordonResult> {
    const { args, flags } = await this.parse(HostsCordon);
    const { config } = await loadConfig(configPath(this.config.configDir, flags.config));
    requireConfiguredHost(config, args.host);
    const store = openSqliteStore(storePath(this.config.dataDir));
    try {
      const result = await cordonHost(store, args.host);
      if (!this.jsonEnabled()) this.log(result.message);
      return result;
    } finally {
      await store.close();
    }
  }
}

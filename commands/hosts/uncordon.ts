import { Args } from '@oclif/core';
import { storePath } from '../../src/app/runtime.js';
import { BaseCommand } from '../../src/cli/base-command.js';
import { configPath, loadConfig } from '../../src/config/config-file.js';
import { type CordonResult, uncordonHost } from '../../src/drain/cordon.js';
import { requireConfiguredHost } from '../../src/drain/make-plan.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

export default class HostsUncordon extends BaseCommand {
  static override summary = 'Let VMs be placed on a host again (also ends its draining mark)';
  static override description =
    'Migrations already armed are not touched: cancel them with `rehome cancel VM`. An active host is left as it is.';
  static override examples = ['<%= config.bin %> hosts uncordon lab-a'];
  static override args = {
    host: Args.string({ description: 'Host name from the rehome config', required: true }),
  };

  async run(): Promise<CordonResult> {
    const { args, flags } = await this.parse(HostsUncordon);
    const { config } = await loadConfig(configPath(this.config.configDir, flags.config));
    requireConfiguredHost(config, args.host);
    const store = openSqliteStore(storePath(this.config.dataDir));
    try {
      const result = await uncordonHost(store, args.host);
      if (!this.jsonEnabled()) this.log(result.message);
      return result;
    } finally {
      await store.close();
    }
  }
}

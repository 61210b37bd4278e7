import { Args } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { formatStatus } from '../src/migration/format.js';
import { storePath } from '../src/migration/runtime.js';
import { type StatusResult, status } from '../src/migration/status.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';

export default class Status extends BaseCommand {
  static override summary = 'Show migrations: phase, sync progress, deadline and, for one VM, its history';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status web1 --json'];
  static override args = { vm: Args.string({ description: 'VM (name or UUID)' }) };

  async run(): Promise<StatusResult> {
    const { args } = await this.parse(Status);
    const store = openSqliteStore(storePath(this.config.dataDir));
    try {
      const result = await status({ store }, args.vm);
      if (!this.jsonEnabled()) this.log(formatStatus(result));
      return result;
    } finally {
      await store.close();
    }
  }
}

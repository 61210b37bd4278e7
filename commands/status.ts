import { Args, Flags } from '@oclif/core';
import { formatDrainStatus } from '../src/app/format/drain-status.js';
import { formatStatus } from '../src/app/format/migration.js';
import { hostDrainStatus, migrationStatus } from '../src/app/status.js';
import { BaseCommand } from '../src/cli/base-command.js';
import type { DrainStatus } from '../src/drain/status.js';
import { RehomeError } from '../src/errors.js';
import type { StatusResult } from '../src/migration/index.js';

export default class Status extends BaseCommand {
  static override summary = 'Show migrations: phase, sync progress, deadline and, for one VM, its history';
  static override description =
    'With --host, the host’s latest drain instead: each VM’s target and phase, how many moved and remain, and ' +
    'whether the host is empty.';
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status web1 --json',
    '<%= config.bin %> status --host kvm7',
  ];
  static override args = { vm: Args.string({ description: 'VM (name or UUID)' }) };
  static override flags = {
    host: Flags.string({ description: 'Show the drain of this host (instead of migrations)' }),
  };

  async run(): Promise<StatusResult | DrainStatus> {
    const { args, flags } = await this.parse(Status);
    if (flags.host && args.vm) throw new RehomeError('Give a VM or --host, not both', 'invalid-input');
    if (flags.host) {
      const drain = await hostDrainStatus(this.runtimePaths(flags), flags.host);
      if (!this.jsonEnabled()) this.log(formatDrainStatus(drain));
      return drain;
    }
    const result = await migrationStatus(this.runtimePaths(flags), args.vm);
    if (!this.jsonEnabled()) this.log(formatStatus(result));
    return result;
  }
}

import { Args, Flags } from '@oclif/core';
import { formatMigrateResult } from '../src/app/format/migration.js';
import { migrateVm } from '../src/app/migrate.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { BANDWIDTH_HELP, type MigrateResult, parseBandwidth } from '../src/migration/index.js';

export default class Migrate extends BaseCommand {
  static override summary =
    'Prepare and arm a VM: mirror its disks to the target, move it at its next reboot';
  static override description =
    'Without --to, placement picks the target as for a drain, over a fresh read of every configured host: never ' +
    'the VM’s own host nor a cordoned or draining one; a VM that fits nowhere exits 10 with the reasons. Without ' +
    '--deadline, the deadline is the operator’s limit (notify.maxDeadlineDays, 30 days by default) from now.';
  static override examples = [
    '<%= config.bin %> migrate web1',
    '<%= config.bin %> migrate web1 --to hv2',
    '<%= config.bin %> migrate web1 --to hv2 --deadline +7d --bandwidth 50',
  ];
  static override args = { vm: Args.string({ description: 'VM (libvirt domain name)', required: true }) };
  static override flags = {
    to: Flags.string({
      description: 'Target host (a name from `rehome hosts list`); default: placement picks one',
    }),
    deadline: Flags.string({ description: 'Move at this time at the latest (ISO date, or +7d, +12h, +30m)' }),
    'sync-writes': Flags.boolean({
      description: 'Write-blocking mirror: every guest write waits for the target',
      default: false,
    }),
    bandwidth: Flags.string({ description: BANDWIDTH_HELP }),
  };

  async run(): Promise<MigrateResult> {
    const { args, flags } = await this.parse(Migrate);
    const bandwidthBytesPerSec = flags.bandwidth ? parseBandwidth(flags.bandwidth) : undefined;
    const request = {
      vm: args.vm,
      ...(flags.to ? { to: flags.to } : {}),
      ...(flags.deadline ? { deadline: flags.deadline } : {}),
      syncWrites: flags['sync-writes'],
      ...(bandwidthBytesPerSec ? { bandwidthBytesPerSec } : {}),
    };
    const result = await this.withRuntime(flags, (rt) => migrateVm(rt, request, this.progressMode()));
    if (!this.jsonEnabled()) this.log(formatMigrateResult(result));
    return result;
  }
}

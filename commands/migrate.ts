import { Args, Flags } from '@oclif/core';
import { formatMigrateResult } from '../src/app/format/migration.js';
import { formatWaitResult } from '../src/app/format/wait.js';
import { migrateVm } from '../src/app/migrate.js';
import { parseWaitTimeout } from '../src/app/wait.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { exitCodeForWait } from '../src/cli/exit-codes.js';
import { untilStopped } from '../src/cli/stop-signal.js';
import {
  BANDWIDTH_HELP,
  type MigrateResult,
  parseBandwidth,
  type WaitMovedResult,
} from '../src/migration/index.js';

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
    '<%= config.bin %> migrate web1 --deadline +2h --wait --timeout 3h',
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
    wait: Flags.boolean({
      description:
        'Once armed, wait until moved: each cutover is made by `rehome watch` at the guest’s reboot, or at the deadline',
      default: false,
    }),
    timeout: Flags.string({
      description: 'With --wait: stop waiting after this long (45s, 30m, 2h, 1d); nothing is undone; exit 13',
      dependsOn: ['wait'],
    }),
  };

  async run(): Promise<MigrateResult & { wait?: WaitMovedResult }> {
    const { args, flags } = await this.parse(Migrate);
    const timeoutMs = parseWaitTimeout(flags.timeout);
    const bandwidthBytesPerSec = flags.bandwidth ? parseBandwidth(flags.bandwidth) : undefined;
    const request = {
      vm: args.vm,
      ...(flags.to ? { to: flags.to } : {}),
      ...(flags.deadline ? { deadline: flags.deadline } : {}),
      syncWrites: flags['sync-writes'],
      ...(bandwidthBytesPerSec ? { bandwidthBytesPerSec } : {}),
    };
    const json = this.jsonEnabled();
    const show = (armed: MigrateResult) => {
      if (!json) this.log(formatMigrateResult(armed));
    };
    const wait = flags.wait
      ? { ...(timeoutMs ? { timeoutMs } : {}), untilStopped, quiet: json, onArmed: show }
      : undefined;
    const result = await this.withRuntime(flags, (rt) => migrateVm(rt, request, this.progressMode(), wait));
    if (!result.wait) show(result);
    else {
      if (!json) this.log(formatWaitResult(result.wait));
      process.exitCode = exitCodeForWait(result.wait);
    }
    return result;
  }
}

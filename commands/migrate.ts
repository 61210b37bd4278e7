import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { stderrProgress } from '../src/migration/command-support.js';
import { type MigrateResult, migrate, parseRate } from '../src/migration/migrate.js';
import { openRuntime } from '../src/migration/runtime.js';

export default class Migrate extends BaseCommand {
  static override summary =
    'Prepare and arm a VM: mirror its disks to the target, move it at its next reboot';
  static override examples = [
    '<%= config.bin %> migrate web1 --to hv2',
    '<%= config.bin %> migrate web1 --to hv2 --deadline +7d',
  ];
  static override args = { vm: Args.string({ description: 'VM (libvirt domain name)', required: true }) };
  static override flags = {
    to: Flags.string({ description: 'Target host (a name from `rehome hosts list`)' }),
    deadline: Flags.string({ description: 'Move at this time at the latest (ISO date, or +7d, +12h, +30m)' }),
    'sync-writes': Flags.boolean({
      description: 'Write-blocking mirror: every guest write waits for the target',
      default: false,
    }),
    bandwidth: Flags.string({
      description: 'Mirror bandwidth limit per second, e.g. 50M, 512K (bytes without a unit)',
    }),
  };

  async run(): Promise<MigrateResult> {
    const { args, flags } = await this.parse(Migrate);
    const rt = await openRuntime({
      configDir: this.config.configDir,
      dataDir: this.config.dataDir,
      configFile: flags.config,
    });
    try {
      const result = await migrate(
        rt,
        {
          vm: args.vm,
          ...(flags.to ? { to: flags.to } : {}),
          ...(flags.deadline ? { deadline: flags.deadline } : {}),
          syncWrites: flags['sync-writes'],
          ...(flags.bandwidth ? { bandwidthBytesPerSec: parseRate(flags.bandwidth) } : {}),
        },
        stderrProgress(this.jsonEnabled()),
      );
      if (!this.jsonEnabled()) {
        this.log(
          `${result.vm} is armed: it moves from ${result.source} to ${result.target} at its next reboot${result.deadline ? ` or at ${result.deadline}` : ''}.`,
        );
      }
      return result;
    } finally {
      await rt.close();
    }
  }
}

import { Args, Flags } from '@oclif/core';
import { formatReboot } from '../src/app/format/vm-actions.js';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { type RebootNowResult, rebootNow } from '../src/migration/index.js';

export default class Reboot extends BaseCommand {
  static override summary = 'Reboot an armed VM now: it comes back on its target host';
  static override examples = ['<%= config.bin %> reboot web1', '<%= config.bin %> reboot web1 --force'];
  static override args = { vm: Args.string({ description: 'VM (name or UUID)', required: true }) };
  static override flags = {
    force: Flags.boolean({
      description: 'If the guest ignores the graceful reboot, pause it as it stands (a power cut for it)',
      default: false,
    }),
  };

  async run(): Promise<RebootNowResult> {
    const { args, flags } = await this.parse(Reboot);
    const result = await this.withRuntime(
      flags,
      (rt) => rebootNow(rt, { vm: args.vm, force: flags.force }, stderrProgress(this.jsonEnabled())),
      { runsCutovers: true },
    );
    if (!this.jsonEnabled()) this.log(formatReboot(result));
    if (result.outcome === 'rolled-back' || result.outcome === 'failed')
      process.exitCode = ExitCode.migrationFailed;
    return result;
  }
}

import { Args, Flags } from '@oclif/core';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { openRuntime } from '../src/app/runtime.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { type RebootNowResult, rebootNow } from '../src/migration/cutover.js';

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
    const rt = await openRuntime({
      configDir: this.config.configDir,
      dataDir: this.config.dataDir,
      configFile: flags.config,
    });
    try {
      const result = await rebootNow(
        rt,
        { vm: args.vm, force: flags.force },
        stderrProgress(this.jsonEnabled()),
      );
      if (!this.jsonEnabled()) {
        const where = result.outcome === 'done' ? `runs on ${result.target}` : `runs on ${result.source}`;
        this.log(
          `${result.vm}: ${result.outcome} (pause ${result.pauseLatencyMs} ms); it ${where}.${result.lastError ? ` ${result.lastError}` : ''}`,
        );
      }
      if (result.outcome === 'rolled-back' || result.outcome === 'failed') process.exitCode = 9;
      return result;
    } finally {
      await rt.close();
    }
  }
}

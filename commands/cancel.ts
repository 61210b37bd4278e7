import { Args } from '@oclif/core';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { openRuntime } from '../src/app/runtime.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { cancel } from '../src/migration/cutover.js';

export interface CancelResult {
  vm: string;
  id: string;
  phase: string;
  source: string;
}

export default class Cancel extends BaseCommand {
  static override summary =
    'Disarm a VM: end its mirror and remove the target files; it keeps running where it is';
  static override args = { vm: Args.string({ description: 'VM (name or UUID)', required: true }) };

  async run(): Promise<CancelResult> {
    const { args, flags } = await this.parse(Cancel);
    const rt = await openRuntime({
      configDir: this.config.configDir,
      dataDir: this.config.dataDir,
      configFile: flags.config,
    });
    try {
      const result = await cancel(rt, args.vm, stderrProgress(this.jsonEnabled()));
      if (!this.jsonEnabled()) this.log(`${result.vm}: ${result.phase}; it stays on ${result.source}.`);
      return result;
    } finally {
      await rt.close();
    }
  }
}

import { Args } from '@oclif/core';
import { formatCancel } from '../src/app/format/vm-actions.js';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { cancel } from '../src/migration/index.js';

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
    const result = await this.withRuntime(flags, (rt) =>
      cancel(rt, args.vm, stderrProgress(this.jsonEnabled())),
    );
    if (!this.jsonEnabled()) this.log(formatCancel(result));
    return result;
  }
}

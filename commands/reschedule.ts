import { Args, Flags } from '@oclif/core';
import { formatReschedule } from '../src/app/format/vm-actions.js';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { type RescheduleResult, reschedule } from '../src/migration/index.js';

export default class Reschedule extends BaseCommand {
  static override summary = "Move an armed VM's deadline, within the operator's limit; the owner is told";
  static override examples = [
    '<%= config.bin %> reschedule web1 --deadline 2026-12-15T22:00Z',
    '<%= config.bin %> reschedule web1 --deadline +36h',
  ];
  static override args = { vm: Args.string({ description: 'VM (name or UUID)', required: true }) };
  static override flags = {
    deadline: Flags.string({
      description: 'The new deadline: ISO 8601 with a zone (Z or +01:00), or +7d, +36h, +90m',
      required: true,
    }),
  };

  async run(): Promise<RescheduleResult> {
    const { args, flags } = await this.parse(Reschedule);
    const result = await this.withRuntime(flags, (rt) =>
      reschedule(rt, { vm: args.vm, deadline: flags.deadline }, stderrProgress(this.jsonEnabled())),
    );
    if (!this.jsonEnabled()) this.log(formatReschedule(result));
    return result;
  }
}

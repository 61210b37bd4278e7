import { Args, Flags } from '@oclif/core';
import { type DrainOutcome, drainHostWithRuntime } from '../src/app/drain.js';
import { formatDrainPlan } from '../src/app/format/drain-plan.js';
import { formatDrainResult } from '../src/app/format/drain-result.js';
import { formatWaitResult } from '../src/app/format/wait.js';
import { parseWaitTimeout } from '../src/app/wait.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { ExitCode, exitCodeForWait } from '../src/cli/exit-codes.js';
import { askYes, canAsk } from '../src/cli/prompt.js';
import { untilStopped } from '../src/cli/stop-signal.js';
import type { DrainPlanReport, DrainResult } from '../src/drain/types.js';
import { RehomeError } from '../src/errors.js';
import { BANDWIDTH_HELP, parseBandwidth } from '../src/migration/index.js';

export type DrainCommandResult = DrainOutcome;

export default class Drain extends BaseCommand {
  static override summary = 'Empty a host: plan, then prepare and arm every VM to move at its next reboot';
  static override description =
    'Marks HOST draining (no VM lands on it), plans every VM as `rehome plan drain` does, and refuses when some VM ' +
    'cannot move (exit 10) unless --skip-blocked. After confirmation (or --yes), each VM gets its target image and ' +
    'a mirror of its disks, at most --concurrency initial copies at once, each limited to --bandwidth; then it is ' +
    'armed and moves at its next reboot, or at the deadline. Returns once every VM is armed; `rehome watch` does ' +
    'the moves. Exit 9 when some VM could not be prepared (it was rolled back and stays on HOST).';
  static override examples = [
    '<%= config.bin %> drain kvm7 --deadline +7d',
    '<%= config.bin %> drain kvm7 --deadline 2026-12-04T18:00:00Z --concurrency 4 --bandwidth 100M --yes',
    '<%= config.bin %> drain kvm7 --deadline +3d --skip-blocked --yes --json',
    '<%= config.bin %> drain kvm7 --deadline +1d --yes --wait --timeout 26h',
  ];
  static override args = { host: Args.string({ description: 'Host to empty', required: true }) };
  static override flags = {
    deadline: Flags.string({
      description:
        'Every VM moves at this time at the latest (ISO date with its zone, or +7d, +12h, +30m), within notify.maxDeadlineDays',
      required: true,
    }),
    concurrency: Flags.integer({ description: 'Initial copies running at once', min: 1, default: 2 }),
    bandwidth: Flags.string({ description: BANDWIDTH_HELP }),
    yes: Flags.boolean({ char: 'y', description: 'Do not ask for confirmation', default: false }),
    'skip-blocked': Flags.boolean({
      description: 'Drain the VMs that can move; leave the blocked ones on HOST',
      default: false,
    }),
    strategy: Flags.string({
      options: ['spread', 'pack'],
      default: 'spread',
      description: 'Placement strategy',
    }),
    wait: Flags.boolean({
      description:
        'Once armed, wait until every VM has moved: each cutover is made by `rehome watch` at the guest’s reboot, or at the deadline',
      default: false,
    }),
    timeout: Flags.string({
      description: 'With --wait: stop waiting after this long (45s, 30m, 2h, 1d); nothing is undone; exit 13',
      dependsOn: ['wait'],
    }),
  };

  async run(): Promise<DrainCommandResult> {
    const { args, flags } = await this.parse(Drain);
    if (!flags.yes && !canAsk()) {
      throw new RehomeError('No terminal to confirm the drain on', 'invalid-input', [
        'Pass --yes to drain without asking.',
      ]);
    }
    const timeoutMs = parseWaitTimeout(flags.timeout);
    const bandwidthBytesPerSec = flags.bandwidth ? parseBandwidth(flags.bandwidth) : undefined;
    const request = {
      host: args.host,
      deadline: flags.deadline,
      concurrency: flags.concurrency,
      skipBlocked: flags['skip-blocked'],
      strategy: flags.strategy as 'spread' | 'pack',
      ...(bandwidthBytesPerSec ? { bandwidthBytesPerSec } : {}),
    };
    const confirm = async (plan: DrainPlanReport) => {
      if (!this.jsonEnabled()) this.logToStderr(formatDrainPlan(plan));
      return flags.yes || askYes(`Drain ${plan.host}: prepare and arm ${plan.totals.placed} VMs? [y/N] `);
    };
    const json = this.jsonEnabled();
    const show = (armed: DrainResult) => {
      if (!json) this.log(formatDrainResult(armed));
    };
    const ui = { mode: this.progressMode(), confirm };
    const wait = flags.wait
      ? { ...(timeoutMs ? { timeoutMs } : {}), untilStopped, quiet: json, onArmed: show }
      : undefined;
    const result = await this.withRuntime(flags, (rt) => drainHostWithRuntime(rt, request, ui, wait));
    if ('cancelled' in result) {
      if (!this.jsonEnabled()) this.log(`Drain of ${args.host} cancelled: nothing was changed.`);
      return result;
    }
    if (result.wait && !json) this.log(formatWaitResult(result.wait));
    else if (!result.wait) show(result);
    if (result.drain.vms.some((vm) => vm.outcome === 'failed')) process.exitCode = ExitCode.migrationFailed;
    else if (result.wait) process.exitCode = exitCodeForWait(result.wait);
    return result;
  }
}

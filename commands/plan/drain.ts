import { Args, Flags } from '@oclif/core';
import { formatDrainPlan } from '../../src/app/format/drain-plan.js';
import { planDrain } from '../../src/app/plan-drain.js';
import { BaseCommand } from '../../src/cli/base-command.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import type { DrainPlanReport } from '../../src/drain/types.js';
import { BANDWIDTH_HELP, parseBandwidth } from '../../src/migration/index.js';

export default class PlanDrain extends BaseCommand {
  static override summary =
    'Show where each VM of a host would go, and what blocks the drain (changes nothing)';
  static override description =
    'Reads every configured host, then places each VM of HOST on a target whose hardware, capacity, networks and ' +
    'labels fit. Cordoned and draining hosts are not targets. For each VM: its target and why, or its blockers; the ' +
    'bytes to copy and an ETA at the link speed (--link-speed, else placement.linkSpeedMiBps, else the 219 MiB/s ' +
    'measured for a block copy over TLS), or at --bandwidth when lower. Exit code 10 when some VM is blocked. No one ' +
    'is told anything.';
  static override examples = [
    '<%= config.bin %> plan drain kvm7',
    '<%= config.bin %> plan drain kvm7 --explain',
    '<%= config.bin %> plan drain kvm7 --strategy pack --link-speed 110 --json',
  ];
  static override args = { host: Args.string({ description: 'Host to empty', required: true }) };
  static override flags = {
    explain: Flags.boolean({
      description: 'For each VM, every candidate host and why it was taken or skipped',
    }),
    strategy: Flags.string({
      description: 'spread: leave the most room on each target; pack: fill hosts up',
      options: ['spread', 'pack'],
      default: 'spread',
    }),
    'link-speed': Flags.integer({ description: 'Copy speed for the ETA, in MiB/s', min: 1 }),
    bandwidth: Flags.string({
      description: `ETAs as under \`drain --bandwidth\` (the budget counts only the bytes sent). ${BANDWIDTH_HELP}`,
    }),
  };

  async run(): Promise<DrainPlanReport> {
    const { args, flags } = await this.parse(PlanDrain);
    const options = {
      strategy: flags.strategy as 'spread' | 'pack',
      explain: flags.explain,
      ...(flags['link-speed'] ? { linkSpeedMiBps: flags['link-speed'] } : {}),
      ...(flags.bandwidth ? { bandwidthBytesPerSec: parseBandwidth(flags.bandwidth) } : {}),
    };
    const report = await this.withRuntime(flags, (rt) =>
      planDrain(rt, args.host, options, this.progressMode()),
    );
    if (!this.jsonEnabled()) this.log(formatDrainPlan(report, { explain: flags.explain }));
    if (report.blocked) process.exitCode = ExitCode.blocked;
    return report;
  }
}

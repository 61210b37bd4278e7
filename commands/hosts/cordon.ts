import { Args, Flags } from '@oclif/core';
import { cordon } from '../../src/app/cordon.js';
import { formatCordon } from '../../src/app/format/cordon.js';
import { BaseCommand } from '../../src/cli/base-command.js';
import type { CordonResult } from '../../src/drain/cordon.js';

export default class HostsCordon extends BaseCommand {
  static override summary = 'Stop placing VMs on a host (its own VMs stay where they are)';
  static override description =
    'Kept in the rehome state database. A host that is already cordoned or draining is left as it is.';
  static override examples = [
    '<%= config.bin %> hosts cordon lab-a',
    '<%= config.bin %> hosts cordon lab-a --reason "DIMM errors, ticket OPS-123" --json',
  ];
  static override args = {
    host: Args.string({ description: 'Host name from the rehome config', required: true }),
  };
  static override flags = {
    reason: Flags.string({ description: 'Why, for the other operators: shown by `rehome hosts list`' }),
  };

  async run(): Promise<CordonResult> {
    const { args, flags } = await this.parse(HostsCordon);
    const result = await this.withRuntime(flags, (rt) => cordon(rt, args.host, flags.reason));
    if (!this.jsonEnabled()) this.log(formatCordon(result));
    return result;
  }
}

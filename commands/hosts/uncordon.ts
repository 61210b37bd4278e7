import { Args } from '@oclif/core';
import { uncordon } from '../../src/app/cordon.js';
import { formatUncordon } from '../../src/app/format/cordon.js';
import { BaseCommand } from '../../src/cli/base-command.js';
import type { CordonResult } from '../../src/drain/cordon.js';

export default class HostsUncordon extends BaseCommand {
  static override summary = 'Let VMs be placed on a host again (also ends its draining mark)';
  static override description =
    'Migrations already armed are not touched: cancel them with `rehome cancel VM`. An active host is left as it is.';
  static override examples = ['<%= config.bin %> hosts uncordon lab-a'];
  static override args = {
    host: Args.string({ description: 'Host name from the rehome config', required: true }),
  };

  async run(): Promise<CordonResult> {
    const { args, flags } = await this.parse(HostsUncordon);
    const result = await this.withRuntime(flags, (rt) => uncordon(rt, args.host));
    if (!this.jsonEnabled()) this.log(formatUncordon(result));
    return result;
  }
}

import { Args, Flags } from '@oclif/core';
import { formatOwnerSet } from '../../src/app/format/owner.js';
import { setOwner } from '../../src/app/owner.js';
import { BaseCommand } from '../../src/cli/base-command.js';
import type { SetOwnerResult } from '../../src/notify/owner-set.js';

export default class OwnerSet extends BaseCommand {
  static override summary = "Record a VM's owner in its libvirt metadata";
  static override description =
    'The owner gets the notices about moving the VM. It is written into the domain (live and in its persistent ' +
    'definition) as <rehome:owner>, so it travels with the VM and wins over the owners: mapping in the config.';
  static override examples = [
    '<%= config.bin %> owner set web-1 alice@example.com',
    '<%= config.bin %> owner set web-1 alice@example.com --time-zone Europe/Paris --host kvm7',
  ];
  static override args = {
    vm: Args.string({ description: 'Domain name', required: true }),
    address: Args.string({
      description: "The owner's address (e-mail, or an id your webhook understands)",
      required: true,
    }),
  };
  static override flags = {
    host: Flags.string({
      description: 'The host the VM is defined on (default: search every configured host)',
    }),
    'time-zone': Flags.string({ description: "The owner's IANA time zone, for deadlines in notices" }),
  };

  async run(): Promise<SetOwnerResult> {
    const { args, flags } = await this.parse(OwnerSet);
    const result = await setOwner(this.runtimePaths(flags), {
      vm: args.vm,
      address: args.address,
      timeZone: flags['time-zone'],
      host: flags.host,
    });
    if (!this.jsonEnabled()) {
      this.log(formatOwnerSet(result));
      for (const skipped of result.unreachable)
        this.warn(`could not search ${skipped.host}: ${skipped.error}`);
    }
    return result;
  }
}

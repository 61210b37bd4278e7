import { Flags } from '@oclif/core';
import { formatServing } from '../src/app/format/links.js';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { watchUntilStopped } from '../src/app/watch.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { untilStopped } from '../src/cli/stop-signal.js';
import type { WatchSummary } from '../src/migration/index.js';

export default class Watch extends BaseCommand {
  static override summary =
    "Run until stopped: catch armed VMs' reboots and move them; reconcile periodically";
  static override examples = ['<%= config.bin %> watch', '<%= config.bin %> watch --serve 127.0.0.1:8080'];
  static override flags = {
    'reconcile-interval': Flags.integer({
      description: 'Seconds between reconcile passes',
      default: 30,
      min: 1,
    }),
    serve: Flags.string({
      description: 'Also serve the owners’ links on this address and port, as `rehome serve --listen` does',
      helpValue: 'HOST:PORT',
    }),
  };

  async run(): Promise<WatchSummary> {
    const { flags } = await this.parse(Watch);
    const options = {
      reconcileMs: flags['reconcile-interval'] * 1000,
      ...(flags.serve ? { serve: flags.serve } : {}),
    };
    return this.withRuntime(flags, (rt) =>
      untilStopped((stop) =>
        watchUntilStopped(rt, options, stop, {
          progress: stderrProgress(false),
          onServing: (links) => this.logToStderr(formatServing(links)),
        }),
      ),
    );
  }
}

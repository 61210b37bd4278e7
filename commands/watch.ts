import { Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { stderrProgress } from '../src/migration/command-support.js';
import { openRuntime } from '../src/migration/runtime.js';
import { Watcher, type WatchSummary } from '../src/migration/watch.js';

export default class Watch extends BaseCommand {
  static override summary =
    "Run until stopped: catch armed VMs' reboots and move them; reconcile periodically";
  static override flags = {
    'reconcile-interval': Flags.integer({
      description: 'Seconds between reconcile passes',
      default: 30,
      min: 1,
    }),
  };

  async run(): Promise<WatchSummary> {
    const { flags } = await this.parse(Watch);
    const rt = await openRuntime({
      configDir: this.config.configDir,
      dataDir: this.config.dataDir,
      configFile: flags.config,
    });
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const watcher = new Watcher(rt, stderrProgress(false), {
        reconcileMs: flags['reconcile-interval'] * 1000,
      });
      return await watcher.run(stop.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await rt.close();
    }
  }
}

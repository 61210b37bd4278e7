import { Flags } from '@oclif/core';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { openRuntime } from '../src/app/runtime.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { type ServingOwnerLinks, serveOwnerLinks } from '../src/migration/owner-links.js';
import { Watcher, type WatchSummary } from '../src/migration/watch.js';

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
    const rt = await openRuntime({
      configDir: this.config.configDir,
      dataDir: this.config.dataDir,
      configFile: flags.config,
    });
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const progress = stderrProgress(false);
    let links: ServingOwnerLinks | undefined;
    try {
      if (flags.serve) {
        links = await serveOwnerLinks(rt, flags.serve, progress);
        this.logToStderr(`Serving links on ${links.origin} (links point at ${links.baseUrl})`);
      }
      const watcher = new Watcher(rt, progress, { reconcileMs: flags['reconcile-interval'] * 1000 });
      return await watcher.run(stop.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await links?.close();
      await rt.close();
    }
  }
}

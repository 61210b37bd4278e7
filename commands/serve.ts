import { Flags } from '@oclif/core';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { openRuntime } from '../src/app/runtime.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { serveOwnerLinks } from '../src/migration/owner-links.js';
import { DEFAULT_LISTEN } from '../src/notify/serve-links.js';

export interface ServeResult {
  listening: string;
  baseUrl: string;
}

export default class Serve extends BaseCommand {
  static override summary = 'Serve the owners’ self-service links (reboot now, reschedule)';
  static override description =
    'Runs until interrupted. Opening a link only shows a page; the action happens when the owner presses its ' +
    'button (a POST): "reboot now" starts the cutover in this process at once, as `rehome reboot` does. Put it ' +
    'behind a TLS reverse proxy and set links.baseUrl to the public URL, path prefix included. ' +
    '`rehome watch --serve ADDR` serves the same links inside watch.';
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --listen 0.0.0.0:8443',
    '<%= config.bin %> serve --listen [::1]:8080',
  ];
  static override flags = {
    listen: Flags.string({ description: 'Address and port to listen on', default: DEFAULT_LISTEN }),
  };

  async run(): Promise<ServeResult> {
    const { flags } = await this.parse(Serve);
    const rt = await openRuntime({
      configDir: this.config.configDir,
      dataDir: this.config.dataDir,
      configFile: flags.config,
    });
    try {
      const serving = await serveOwnerLinks(rt, flags.listen, stderrProgress(this.jsonEnabled()));
      this.logToStderr(`Serving links on ${serving.origin} (links point at ${serving.baseUrl})`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await serving.close();
      return { listening: serving.origin, baseUrl: serving.baseUrl };
    } finally {
      await rt.close();
    }
  }
}

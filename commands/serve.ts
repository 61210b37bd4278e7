import { Flags } from '@oclif/core';
import { formatServing } from '../src/app/format/links.js';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { type ServeResult, serveUntilStopped } from '../src/app/serve.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { untilStopped } from '../src/cli/stop-signal.js';
import { DEFAULT_LISTEN } from '../src/notify/serve-links.js';

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
    return this.withRuntime(
      flags,
      (rt) =>
        untilStopped((stop) =>
          serveUntilStopped(rt, flags.listen, stop, {
            progress: stderrProgress(this.jsonEnabled()),
            onServing: (links) => this.logToStderr(formatServing(links)),
          }),
        ),
      { runsCutovers: true },
    );
  }
}

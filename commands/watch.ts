import { Flags } from '@oclif/core';
import { formatServing } from '../src/app/format/links.js';
import { formatWatchEventLine, formatWatchStart } from '../src/app/format/watch.js';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { watchUntilStopped } from '../src/app/watch.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { untilStopped } from '../src/cli/stop-signal.js';
import type { TimedWatchEvent, WatchSummary } from '../src/migration/index.js';

export default class Watch extends BaseCommand {
  static override summary =
    "Run until stopped: catch armed VMs' reboots and move them; reconcile periodically";
  static override description =
    'Prints a start line (VMs armed, hosts watched), then progress on stderr. With --json, one JSON line per event ' +
    'on stdout instead (started, armed, reboot-caught, paused, converged, target-started, done, rolled-back, failed, ' +
    'step-failed, mirror-lost, connected, connection-lost, reconnected, and stopped at the end), each with `at` in ' +
    'UTC. With --serve, the same address also answers GET /metrics (Prometheus text format) and GET /healthz (200 ' +
    'when the store is read and every needed host connection is up, else 503, with the reasons as JSON).';
  static override examples = [
    '<%= config.bin %> watch',
    '<%= config.bin %> watch --serve 127.0.0.1:8080',
    '<%= config.bin %> watch --json --serve 127.0.0.1:8080 | tee -a /var/log/rehome/events.jsonl',
  ];
  static override flags = {
    'reconcile-interval': Flags.integer({
      description: 'Seconds between reconcile passes',
      default: 30,
      min: 1,
    }),
    serve: Flags.string({
      description:
        'Also serve the owners’ links on this address and port, as `rehome serve --listen` does, with /metrics and /healthz',
      helpValue: 'HOST:PORT',
    }),
  };

  async run(): Promise<WatchSummary | undefined> {
    const { flags } = await this.parse(Watch);
    const json = this.jsonEnabled();
    const line = (event: TimedWatchEvent) => process.stdout.write(`${formatWatchEventLine(event)}\n`);
    const options = {
      reconcileMs: flags['reconcile-interval'] * 1000,
      ...(flags.serve ? { serve: flags.serve } : {}),
    };
    const summary = await this.withRuntime(
      flags,
      (rt) =>
        untilStopped((stop) =>
          watchUntilStopped(rt, options, stop, {
            progress: stderrProgress(false),
            onServing: (links) =>
              process.stderr.write(
                `${formatServing(links)}; metrics at ${links.origin}/metrics, health at ${links.origin}/healthz\n`,
              ),
            onEvent: (event) => {
              if (json) line(event);
              else if (event.event === 'started')
                this.logToStderr(formatWatchStart(event, rt.config.hosts.length));
            },
          }),
        ),
      { runsCutovers: true },
    );
    if (!json) return summary;
    // One line per event on stdout: the summary too, rather than oclif's multi-line JSON.
    line({ at: new Date().toISOString(), event: 'stopped', ...summary });
    return undefined;
  }
}

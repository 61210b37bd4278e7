import { rearmDrains } from '../drain/index.js';
import {
  type ProgressSink,
  type Runtime,
  type ServingOwnerLinks,
  serveOwnerLinks,
  type TimedWatchEvent,
  type WatchEvent,
  Watcher,
  type WatchSummary,
  watchEventFromProgress,
} from '../migration/index.js';
import { enginePrepareAndArm } from './drain-engine.js';

export interface WatchOptions {
  reconcileMs: number;
  /** Also serve the owners' links on this HOST:PORT, with /metrics and /healthz. */
  serve?: string;
}

export interface WatchUi {
  progress: ProgressSink;
  onServing: (links: ServingOwnerLinks) => void;
  /** Each event, stamped with its time (UTC): the start line, `--json` lines. */
  onEvent: (event: TimedWatchEvent) => void;
}

/**
 * `rehome watch`: moves armed VMs at their reboot and reconciles, until `stop` aborts. Its events go to `ui.onEvent`
 * and, with `serve`, to the metrics served at /metrics next to /healthz and the owners' links.
 */
export async function watchUntilStopped(
  rt: Runtime,
  options: WatchOptions,
  stop: AbortSignal,
  ui: WatchUi,
): Promise<WatchSummary> {
  const listeners: ((event: WatchEvent) => void)[] = [
    (event) => ui.onEvent({ at: new Date().toISOString(), ...event }),
  ];
  const emit = (event: WatchEvent) => {
    for (const listener of listeners) listener(event);
  };
  const progress: ProgressSink = (event) => {
    ui.progress(event);
    const derived = watchEventFromProgress(event);
    if (derived) emit(derived);
  };
  const watcher = new Watcher(rt, progress, {
    reconcileMs: options.reconcileMs,
    onEvent: emit,
    afterReconcile: () => rearmDrainedVms(rt, progress),
  });
  let links: ServingOwnerLinks | undefined;
  try {
    if (options.serve) {
      // prom-client is loaded only by a watch that serves.
      const { WatchMetrics, observabilityRoutes } = await import('./watch-metrics.js');
      const snapshot = () => watcher.telemetry.snapshot();
      const metrics = new WatchMetrics(snapshot);
      listeners.push((event) => metrics.observe(event));
      links = await serveOwnerLinks(rt, options.serve, progress, observabilityRoutes(metrics, snapshot));
      ui.onServing(links);
    }
    return await watcher.run(stop);
  } finally {
    await links?.close();
  }
}

/** A drain's VMs rolled back for a passing cause are armed again, with a backoff, up to a limit (src/drain/rearm.ts). */
async function rearmDrainedVms(rt: Runtime, progress: ProgressSink): Promise<void> {
  for (const entry of await rearmDrains(rt.store, enginePrepareAndArm(rt))) {
    progress({
      vm: entry.vm,
      step: 'rearm',
      status: entry.outcome === 'armed' ? 'info' : 'error',
      message: `attempt ${entry.attempt} on ${entry.host}: ${entry.outcome === 'armed' ? 'armed again' : entry.detail}`,
    });
  }
}

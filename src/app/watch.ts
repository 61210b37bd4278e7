import {
  type ProgressSink,
  type Runtime,
  type ServingOwnerLinks,
  serveOwnerLinks,
  Watcher,
  type WatchSummary,
} from '../migration/index.js';

export interface WatchOptions {
  reconcileMs: number;
  /** Also serve the owners' links on this HOST:PORT. */
  serve?: string;
}

/** `rehome watch`: moves armed VMs at their reboot and reconciles, until `stop` aborts. */
export async function watchUntilStopped(
  rt: Runtime,
  options: WatchOptions,
  stop: AbortSignal,
  ui: { progress: ProgressSink; onServing: (links: ServingOwnerLinks) => void },
): Promise<WatchSummary> {
  let links: ServingOwnerLinks | undefined;
  try {
    if (options.serve) {
      links = await serveOwnerLinks(rt, options.serve, ui.progress);
      ui.onServing(links);
    }
    return await new Watcher(rt, ui.progress, { reconcileMs: options.reconcileMs }).run(stop);
  } finally {
    await links?.close();
  }
}

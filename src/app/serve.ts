import { once } from 'node:events';
import {
  type ProgressSink,
  type Runtime,
  type ServingOwnerLinks,
  serveOwnerLinks,
} from '../migration/index.js';

export interface ServeResult {
  listening: string;
  baseUrl: string;
}

/** `rehome serve`: the owners' links, served until `stop` aborts; then the cutovers they started are waited for. */
export async function serveUntilStopped(
  rt: Runtime,
  listen: string,
  stop: AbortSignal,
  ui: { progress: ProgressSink; onServing: (links: ServingOwnerLinks) => void },
): Promise<ServeResult> {
  const serving = await serveOwnerLinks(rt, listen, ui.progress);
  ui.onServing(serving);
  if (!stop.aborted) await once(stop, 'abort');
  await serving.close();
  return { listening: serving.origin, baseUrl: serving.baseUrl };
}

import { RehomeError } from '../../errors.js';
import type { ExtraRoutes } from '../../notify/links-server.js';
import { parseListen, serveLinks } from '../../notify/serve-links.js';
import type { Runtime } from '../runtime.js';
import type { ProgressSink } from '../types.js';
import { linkActions } from './link-actions.js';

export interface ServingOwnerLinks {
  /** Where the server listens, e.g. http://127.0.0.1:8080. */
  origin: string;
  /** What links point at: links.baseUrl, or the origin. */
  baseUrl: string;
  /** Stops taking requests, then waits for the cutovers that links started. */
  close(): Promise<void>;
}

/**
 * The owners' self-service links served in this process (`rehome serve`, `rehome watch --serve`): the link server
 * from the config, whose "reboot now" runs the cutover here and whose "reschedule" moves the deadline.
 */
export async function serveOwnerLinks(
  rt: Runtime,
  listen: string,
  progress: ProgressSink,
  extraRoutes?: ExtraRoutes,
): Promise<ServingOwnerLinks> {
  let address: { host: string; port: number };
  try {
    address = parseListen(listen);
  } catch (error) {
    throw new RehomeError((error as Error).message, 'invalid-input');
  }
  if (!rt.configDir) throw new Error('serving links needs the runtime’s configDir');
  const actions = linkActions(rt, progress);
  const serving = await serveLinks({
    config: rt.config,
    configDir: rt.configDir,
    store: rt.store,
    listen: address,
    callbacks: actions,
    ...(extraRoutes ? { extraRoutes } : {}),
  });
  return {
    origin: serving.origin,
    baseUrl: serving.baseUrl,
    close: async () => {
      await serving.close();
      await actions.settle();
    },
  };
}

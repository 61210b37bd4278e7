import path from 'node:path';
import type { RehomeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import { loadLinkSecret } from './link-secret.js';
import {
  type ExtraRoutes,
  type LinkCallbacks,
  type RunningLinksServer,
  startLinksServer,
} from './links-server.js';
import { resolveOwner } from './owner.js';

export const DEFAULT_LISTEN = '127.0.0.1:8080';

/** "127.0.0.1:8080", "[::1]:8080", ":8080" (all interfaces), into host and port. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new RangeError(`Bad --listen ${JSON.stringify(value)}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export interface ServeLinksInput {
  config: RehomeConfig;
  configDir: string;
  store: Store;
  listen: { host: string; port: number };
  callbacks: LinkCallbacks;
  extraRoutes?: ExtraRoutes;
}

export interface ServingLinks extends RunningLinksServer {
  /** What links are built from: links.baseUrl, or this server's own address when none is configured. */
  baseUrl: string;
  secretSource: 'config' | 'file';
}

/** Starts the self-service link server from the config: secret, base URL, owner zones, operator contact. */
export async function serveLinks(input: ServeLinksInput): Promise<ServingLinks> {
  const { config } = input;
  const secret = await loadLinkSecret(input.configDir, config.links?.secret);
  const operator = config.notify?.operator;
  const running = await startLinksServer(
    {
      store: input.store,
      secret: secret.secret,
      callbacks: input.callbacks,
      baseUrl: config.links?.baseUrl,
      maxDeadlineDays: config.notify?.maxDeadlineDays,
      ownerTimeZone: (migration) =>
        resolveOwner({ vmName: migration.vmName }, { owners: config.owners, operator })?.timeZone,
      operatorContact: operator
        ? operator.name
          ? `${operator.name} <${operator.address}>`
          : operator.address
        : undefined,
      overrideDir: path.join(input.configDir, 'templates'),
      ...(input.extraRoutes ? { extraRoutes: input.extraRoutes } : {}),
    },
    input.listen,
  );
  return { ...running, baseUrl: config.links?.baseUrl ?? `${running.origin}/`, secretSource: secret.source };
}

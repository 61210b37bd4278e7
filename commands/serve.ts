import { Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { RehomeError } from '../src/cli/errors.js';
import { configPath, loadConfig } from '../src/config/config-file.js';
import type { LinkCallbacks } from '../src/notify/links-server.js';
import { DEFAULT_LISTEN, parseListen, serveLinks } from '../src/notify/serve-links.js';
import { defaultStorePath, openSqliteStore, type Store } from '../src/store/index.js';

export interface ServeResult {
  listening: string;
  baseUrl: string;
}

/**
 * What a valid link does. For now it only records the request: the migration engine is wired in here (and only
 * here) by replacing these two callbacks with calls into src/migration.
 */
export function linkCallbacksBeforeEngine(store: Store): LinkCallbacks {
  const record = async (migrationId: string, step: string, detail: Record<string, unknown>) => {
    const migration = await store.getMigration(migrationId);
    await store.appendAudit({
      migrationId,
      vm: migration?.vmUuid ?? 'unknown',
      step,
      outcome: 'info',
      detail: { ...detail, note: 'the migration engine is not wired to rehome serve yet; nothing was done' },
    });
  };
  return {
    onReboot: (migrationId) => record(migrationId, 'link.reboot-not-wired', {}),
    onReschedule: (migrationId, deadline) =>
      record(migrationId, 'link.reschedule-not-wired', { deadline: deadline.toISOString() }),
  };
}

export default class Serve extends BaseCommand {
  static override summary = 'Serve the owners’ self-service links (reboot now, reschedule)';
  static override description =
    'Runs until interrupted. Opening a link only shows a page; the action happens when the owner presses its ' +
    'button (a POST). Put it behind a TLS reverse proxy and set links.baseUrl to the public URL, path prefix included.';
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
    const { config } = await loadConfig(configPath(this.config.configDir, flags.config));
    let listen: { host: string; port: number };
    try {
      listen = parseListen(flags.listen);
    } catch (error) {
      throw new RehomeError((error as Error).message, 'usage');
    }
    const store = openSqliteStore(defaultStorePath(this.config.dataDir));
    const serving = await serveLinks({
      config,
      configDir: this.config.configDir,
      store,
      listen,
      callbacks: linkCallbacksBeforeEngine(store),
    });
    this.logToStderr(`Serving links on ${serving.origin} (links point at ${serving.baseUrl})`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await serving.close();
    await store.close();
    return { listening: serving.origin, baseUrl: serving.baseUrl };
  }
}

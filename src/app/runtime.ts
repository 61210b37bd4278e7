import { hostname } from 'node:os';
import { configPath, loadConfig } from '../config/config-file.js';
import { sshOptionsFromConfig } from '../config/ssh-options.js';
import { RehomeError } from '../errors.js';
import { SshPool } from '../host/ssh-pool.js';
import { HostConnections } from '../libvirt/host-connections.js';
import { closeNotices } from '../migration/notices.js';
import type { Runtime } from '../migration/runtime.js';
import { migrationSettings } from '../migration/settings.js';
import type { HostsPort } from '../migration/types.js';
import { defaultStorePath, openSqliteStore } from '../store/sqlite/open.js';

export interface RuntimePaths {
  configDir: string;
  dataDir: string;
  configFile?: string;
}

/** REHOME_DATA_DIR overrides oclif's dataDir; the database is `rehome.db` in it. */
export function storePath(dataDir: string): string {
  return defaultStorePath(process.env.REHOME_DATA_DIR || dataDir);
}

export async function openRuntime(paths: RuntimePaths): Promise<Runtime> {
  const { config } = await loadConfig(configPath(paths.configDir, paths.configFile));
  const certDir = config.tls?.certDir;
  const store = openSqliteStore(storePath(paths.dataDir));
  const connections = new HostConnections(config.hosts, new SshPool(sshOptionsFromConfig(config)));
  const hosts: HostsPort = {
    ssh: (host) => connections.ssh(host),
    libvirt: (host) => connections.libvirt(host),
    addressOf: async (host) => (await connections.ssh(host)).resolved.hostname,
  };
  const host = (name: string) => {
    const found = config.hosts.find((candidate) => candidate.name === name);
    if (!found)
      throw new RehomeError(`No host named ${name} in the rehome config`, 'not-found', [], {
        subject: { code: 'unknown-host', host: name },
      });
    return found;
  };
  const rt: Runtime = {
    config,
    configDir: paths.configDir,
    store,
    hosts,
    settings: {
      ...migrationSettings(config),
      get certDir(): string {
        if (!certDir) {
          throw new RehomeError('tls.certDir is not set in the rehome config', 'config', [
            'Set tls.certDir to the directory holding ca-cert.pem, server-cert.pem and server-key.pem on every host.',
          ]);
        }
        return certDir;
      },
    },
    host,
    lockOwner: (purpose) => ({ pid: process.pid, host: hostname(), purpose }),
    close: async () => {
      await closeNotices(rt);
      await connections.closeAll();
      await store.close();
    },
  };
  return rt;
}

import { type DrainStatus, drainStatus } from '../drain/status.js';
import { RehomeError } from '../errors.js';
import { type StatusResult, status } from '../migration/index.js';
import { loadConfigFile, type RuntimePaths, withStore } from './runtime.js';

/** `rehome status [VM]`: from the state database alone, so it works without a config. */
export function migrationStatus(paths: RuntimePaths, vm: string | undefined): Promise<StatusResult> {
  return withStore(paths, (store) => status({ store }, vm));
}

/**
 * `rehome status --host HOST`: the host's latest drain. A host neither in the config nor in the store (no drain, no
 * cordon) is not found, rather than reported "active" as if it existed.
 */
export async function hostDrainStatus(paths: RuntimePaths, host: string): Promise<DrainStatus> {
  const { config } = await loadConfigFile(paths);
  return withStore(paths, async (store) => {
    const result = await drainStatus(store, host);
    const known =
      config.hosts.some((entry) => entry.name === host) || result.drain || result.hostState !== 'active';
    if (!known)
      throw new RehomeError(
        `No host named ${host} in the rehome config, nor any drain of it on record`,
        'not-found',
        [],
        {
          subject: { code: 'unknown-host', host },
        },
      );
    return result;
  });
}

import type { RehomeConfig } from '../config/schema.js';
import type { DiskPolicyOptions } from './policy.js';

/** The disk policy's options from the config's `storage:` section: the same for plan, drain, migrate and cutover. */
export function diskPolicyOptions(config: Pick<RehomeConfig, 'storage'>): DiskPolicyOptions {
  const storage = config.storage;
  return {
    sharedPrefixes: storage?.sharedPrefixes ?? [],
    sharedPools: storage?.sharedPools ?? [],
    blockDisksInto: storage?.blockDisksInto ?? 'volume',
    ...(storage?.blockPool ? { blockPool: storage.blockPool } : {}),
    removableMedia: storage?.removableMedia ?? 'copy',
  };
}

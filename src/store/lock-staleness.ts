import type { LockHolder } from './types.js';

export interface StalenessProbe {
  now: Date;
  /** The host name of the process asking. */
  localHost: string;
  isPidAlive(pid: number): boolean;
}

export type Staleness = { stale: false } | { stale: true; reason: 'expired' | 'holder-dead' };

/**
 * A holder is stale when its lease has expired, or when it ran on this very host and its process is gone. A pid on
 * another host cannot be checked from here, so only the ttl frees it.
 */
export function judgeHolder(holder: LockHolder, probe: StalenessProbe): Staleness {
  if (Date.parse(holder.expiresAt) <= probe.now.getTime()) return { stale: true, reason: 'expired' };
  if (holder.host === probe.localHost && !probe.isPidAlive(holder.pid))
    return { stale: true, reason: 'holder-dead' };
  return { stale: false };
}

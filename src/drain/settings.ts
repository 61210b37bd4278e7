import { z } from 'zod';
import type { RehomeConfig } from '../config/schema.js';
import { RehomeError } from '../errors.js';
import { type HostPolicyOverride, hostPolicyOverrides } from '../inventory/host-policies.js';
import { jobSpeedUnder } from '../sync/mirror-budget.js';

/** What DESIGN.md measured for a block copy over NBD with TLS between two lab hosts (219 MiB/s). */
export const MEASURED_LINK_MIB_PER_SEC = 219;

/** The key of the loose `placement:` section that only the drain reads. */
const drainPlacementSchema = z.object({
  /** Link speed for plan ETAs, in MiB/s; when absent, the figure measured in DESIGN.md. */
  linkSpeedMiBps: z.number().positive().optional(),
});

export interface DrainSettings {
  hostPolicies: Record<string, HostPolicyOverride>;
  linkSpeedMiBps?: number;
}

export function drainSettings(config: Pick<RehomeConfig, 'placement'>): DrainSettings {
  const hostPolicies = hostPolicyOverrides(config);
  const parsed = drainPlacementSchema.safeParse(config.placement ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `placement.${issue.path.join('.')}: ${issue.message}`,
    );
    throw new RehomeError(`Invalid config:\n${problems.join('\n')}`, 'config');
  }
  return {
    hostPolicies,
    ...(parsed.data.linkSpeedMiBps !== undefined ? { linkSpeedMiBps: parsed.data.linkSpeedMiBps } : {}),
  };
}

export type LinkSpeedSource = 'flag' | 'config' | 'measured-in-design' | 'bandwidth';

export interface LinkSpeed {
  mibPerSec: number;
  source: LinkSpeedSource;
}

/**
 * --link-speed, else `placement.linkSpeedMiBps`, else the block copy speed measured on these machines; a --bandwidth
 * budget below that wins, at the speed a copy goes under it (jobSpeedUnder: 20/21 of it). A mirror sends only the
 * allocated bytes (the budget counts no zero region), so an ETA is the allocated bytes over this speed.
 */
export function linkSpeed(
  flag: number | undefined,
  settings: DrainSettings,
  bandwidthBytesPerSec?: number,
): LinkSpeed {
  const link: LinkSpeed =
    flag !== undefined
      ? { mibPerSec: flag, source: 'flag' }
      : settings.linkSpeedMiBps !== undefined
        ? { mibPerSec: settings.linkSpeedMiBps, source: 'config' }
        : { mibPerSec: MEASURED_LINK_MIB_PER_SEC, source: 'measured-in-design' };
  const budget =
    bandwidthBytesPerSec === undefined ? undefined : jobSpeedUnder(bandwidthBytesPerSec) / (1024 * 1024);
  return budget !== undefined && budget < link.mibPerSec ? { mibPerSec: budget, source: 'bandwidth' } : link;
}

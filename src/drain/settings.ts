import { z } from 'zod';
import { RehomeError } from '../cli/errors.js';
import type { RehomeConfig } from '../config/schema.js';
import type { HostPolicy } from '../placement/types.js';

/** What DESIGN.md measured for a block copy over NBD with TLS between two lab hosts (219 MiB/s). */
export const MEASURED_LINK_MIB_PER_SEC = 219;

const hostPolicySchema = z.strictObject({
  reservedMemoryMiB: z.number().int().min(0).optional(),
  memoryOvercommit: z.number().positive().optional(),
  cpuOvercommit: z.number().positive().optional(),
  diskHeadroomBytes: z.number().int().min(0).optional(),
  diskHeadroomRatio: z.number().min(0).max(1).optional(),
});

/** The keys of the loose `placement:` section that the drain reads (the fleet-wide policy keys are read elsewhere). */
const drainPlacementSchema = z.object({
  /** Per-host overrides of the fleet-wide policy, by host name. */
  hosts: z.record(z.string(), hostPolicySchema).default({}),
  /** Link speed for plan ETAs, in MiB/s; when absent, the figure measured in DESIGN.md. */
  linkSpeedMiBps: z.number().positive().optional(),
});

export type HostPolicyOverride = z.infer<typeof hostPolicySchema>;

export interface DrainSettings {
  hostPolicies: Record<string, HostPolicyOverride>;
  linkSpeedMiBps?: number;
}

export function drainSettings(config: Pick<RehomeConfig, 'placement'>): DrainSettings {
  const parsed = drainPlacementSchema.safeParse(config.placement ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `placement.${issue.path.join('.')}: ${issue.message}`,
    );
    throw new RehomeError(`Invalid config:\n${problems.join('\n')}`, 'config');
  }
  return {
    hostPolicies: parsed.data.hosts,
    ...(parsed.data.linkSpeedMiBps !== undefined ? { linkSpeedMiBps: parsed.data.linkSpeedMiBps } : {}),
  };
}

/** The fleet-wide policy with one host's overrides applied. */
export function applyHostPolicy(policy: HostPolicy, override: HostPolicyOverride | undefined): HostPolicy {
  if (!override) return policy;
  const result = { ...policy };
  if (override.reservedMemoryMiB !== undefined) result.reservedMemoryKiB = override.reservedMemoryMiB * 1024;
  if (override.memoryOvercommit !== undefined) result.memoryOvercommit = override.memoryOvercommit;
  if (override.cpuOvercommit !== undefined) result.cpuOvercommit = override.cpuOvercommit;
  if (override.diskHeadroomBytes !== undefined) result.diskHeadroomBytes = override.diskHeadroomBytes;
  if (override.diskHeadroomRatio !== undefined) result.diskHeadroomRatio = override.diskHeadroomRatio;
  return result;
}

export type LinkSpeedSource = 'flag' | 'config' | 'measured-in-design';

export interface LinkSpeed {
  mibPerSec: number;
  source: LinkSpeedSource;
}

/** --link-speed, else `placement.linkSpeedMiBps`, else the block copy speed measured on these machines. */
export function linkSpeed(flag: number | undefined, settings: DrainSettings): LinkSpeed {
  if (flag !== undefined) return { mibPerSec: flag, source: 'flag' };
  if (settings.linkSpeedMiBps !== undefined) return { mibPerSec: settings.linkSpeedMiBps, source: 'config' };
  return { mibPerSec: MEASURED_LINK_MIB_PER_SEC, source: 'measured-in-design' };
}

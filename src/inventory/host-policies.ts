import { z } from 'zod';
import { hostPolicySchema, type RehomeConfig } from '../config/schema.js';
import { RehomeError } from '../errors.js';
import type { HostPolicy } from '../placement/types.js';

/** `placement.hosts`: per-host overrides of the fleet-wide policy, by host name (the section's other keys are read elsewhere). */
const hostsSectionSchema = z.object({ hosts: z.record(z.string(), hostPolicySchema).default({}) });

export type HostPolicyOverride = z.infer<typeof hostPolicySchema>;

export function hostPolicyOverrides(
  config: Pick<RehomeConfig, 'placement'>,
): Record<string, HostPolicyOverride> {
  const parsed = hostsSectionSchema.safeParse(config.placement ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `placement.${issue.path.join('.')}: ${issue.message}`,
    );
    throw new RehomeError(`Invalid config:\n${problems.join('\n')}`, 'config');
  }
  return parsed.data.hosts;
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

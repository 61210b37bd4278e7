import { z } from 'zod';
import type { RehomeConfig } from '../config/schema.js';
import { RehomeError } from '../errors.js';

const settingsSchema = z.strictObject({
  /** A pause that lands later than this after the reboot event is undone: the guest boots in place. */
  pauseBoundMs: z.number().int().positive().default(1000),
  /** How long a graceful (ACPI) reboot may take before `--force` or a deadline pauses the guest as it stands. */
  gracefulRebootTimeoutMs: z.number().int().positive().default(120_000),
  /** How long the converge step waits for the last dirty blocks while the guest is paused. */
  convergeTimeoutMs: z.number().int().positive().default(300_000),
  /** Source disks are kept this long after a move, then reconcile removes them. */
  retentionHours: z.number().nonnegative().default(168),
  /** Pid files of exports on the target. */
  runDir: z.string().regex(/^\//).default('/run/rehome'),
});

export type MigrationSettings = z.infer<typeof settingsSchema>;

/** The `migration:` section of the config (optional; every key has a default). */
export function migrationSettings(config: RehomeConfig): MigrationSettings {
  const section = (config as Record<string, unknown>).migration ?? {};
  const parsed = settingsSchema.safeParse(section);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `migration.${issue.path.join('.')}: ${issue.message}`,
    );
    throw new RehomeError(`Invalid config:\n${problems.join('\n')}`, 'config');
  }
  return parsed.data;
}

export function defaultSettings(): MigrationSettings {
  return settingsSchema.parse({});
}

import { type MigrationConfig, migrationSchema, type RehomeConfig } from '../config/schema.js';

export type MigrationSettings = MigrationConfig;

/** The `migration:` section of the config, its defaults filled in by the schema. */
export function migrationSettings(config: RehomeConfig): MigrationSettings {
  return config.migration;
}

export function defaultSettings(): MigrationSettings {
  return migrationSchema.parse({});
}

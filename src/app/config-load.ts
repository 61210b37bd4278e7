import { configPath, type LoadedConfig, loadConfig } from '../config/config-file.js';

export interface RuntimePaths {
  configDir: string;
  dataDir: string;
  configFile?: string;
  /** Hears the config's warnings (a file others can read), each once per process; the CLI prints them on stderr. */
  onWarning?: (message: string) => void;
}

const warned = new Set<string>();

/**
 * The config file named by --config, or config.yaml in the config directory. A missing default file is an empty
 * config; a file named by --config (or REHOME_CONFIG) must exist, unless `create` (for `hosts add`, which writes it).
 * Apart from runtime.ts so that commands that only read the config never load SSH or libvirt.
 */
export async function loadConfigFile(
  paths: RuntimePaths,
  options: { create?: boolean } = {},
): Promise<LoadedConfig> {
  const named = paths.configFile !== undefined && paths.configFile !== '';
  const loaded = await loadConfig(configPath(paths.configDir, paths.configFile), {
    mustExist: named && options.create !== true,
  });
  for (const warning of loaded.warnings ?? []) {
    if (warned.has(warning) || !paths.onWarning) continue;
    warned.add(warning);
    paths.onWarning(warning);
  }
  return loaded;
}

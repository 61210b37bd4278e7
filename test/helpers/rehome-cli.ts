/**
 * Runs the CLI from source (bin/dev.js) the way an operator would, with its config, data and cache dirs pointed at
 * a test's own directories. NO_COLOR keeps output plain when the test runner itself runs under CI (CI=true makes
 * the colour library emit escapes even without a terminal).
 */
import { join } from 'node:path';
import { execa } from 'execa';

const root = new URL('../../', import.meta.url).pathname;

export interface CliDirs {
  configDir: string;
  dataDir?: string;
  cacheDir?: string;
}

export function runRehome(dirs: CliDirs, args: string[], extraEnv: Record<string, string> = {}) {
  return execa(join(root, 'bin/dev.js'), args, {
    cwd: root,
    reject: false,
    env: {
      REHOME_CONFIG_DIR: dirs.configDir,
      REHOME_DATA_DIR: dirs.dataDir ?? dirs.configDir,
      ...(dirs.cacheDir ? { REHOME_CACHE_DIR: dirs.cacheDir } : {}),
      REHOME_CONFIG: '',
      NODE_NO_WARNINGS: '1',
      NO_COLOR: '1',
      ...extraEnv,
    },
  });
}

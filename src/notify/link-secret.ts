import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RehomeError } from '../errors.js';

export const LINK_SECRET_FILE = 'link-secret';

export interface LinkSecret {
  secret: string;
  /** Where it came from: the config, or the file (created now or before). */
  source: 'config' | 'file';
  file?: string;
  created?: boolean;
}

/**
 * `links.secret` from the config when set; else the secret in `<configDir>/link-secret`, created (random, 0600) on
 * first use. A file left readable by others is tightened to 0600, since anyone with it could forge reboot links.
 */
export async function loadLinkSecret(configDir: string, configured?: string): Promise<LinkSecret> {
  if (configured) return { secret: configured, source: 'config' };
  const file = path.join(configDir, LINK_SECRET_FILE);
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  const secret = (await readFile(file, 'utf8')).trim();
  if (secret.length < 32) {
    throw new RehomeError(`${file} holds a secret shorter than 32 characters`, 'config', [
      `Remove ${file} to have a new one generated (links already sent stop working).`,
    ]);
  }
  return { secret, source: 'file', file, created };
}

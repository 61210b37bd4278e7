import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MARKER = path.join('templates', 'scheduled.subject.eta');

/**
 * The templates/ shipped with rehome. Found by walking up from this module, because it sits at a different depth in
 * src/ (tsx) and in dist/src/ (built).
 */
export function builtinTemplatesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, MARKER))) return path.join(dir, 'templates');
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`rehome's templates/ directory was not found above ${import.meta.url}`);
    dir = parent;
  }
}

/**
 * Resolves a template name ("scheduled.txt", "./layout.html") to the first existing file in `dirs`, in order, so a
 * file in the operator's directory shadows the built-in one of the same name. Names may not leave their directory.
 */
export function resolveTemplate(name: string, dirs: readonly string[], extension = '.eta'): string {
  const relative = path.normalize(name.replace(/^(\.\/|\/)+/, ''));
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(`template name ${JSON.stringify(name)} leaves the templates directory`);
  }
  const file = path.extname(relative) === extension ? relative : `${relative}${extension}`;
  for (const dir of dirs) {
    const candidate = path.join(dir, file);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`template ${JSON.stringify(file)} not found in ${dirs.join(', ')}`);
}

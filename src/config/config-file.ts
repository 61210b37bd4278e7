import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Alias, Document, isDocument, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { RehomeError } from '../errors.js';
import { configSchema, type RehomeConfig } from './schema.js';

export const CONFIG_FILE_NAME = 'config.yaml';

/** A config file: the validated values, and the YAML document they came from, so edits keep comments. */
export interface LoadedConfig {
  path: string;
  exists: boolean;
  document: Document;
  config: RehomeConfig;
  /** Things the operator should know but that do not stop rehome (a file others can read); the CLI prints them. */
  warnings?: string[];
}

/**
 * The config may hold secrets (an SMTP password, webhook and link secrets): a file that other users can read, or
 * write, is worth a warning. `mode` as from stat.
 */
export function configFileWarnings(path: string, mode: number): string[] {
  const warnings: string[] = [];
  if (mode & 0o002) warnings.push(`${path} can be written by every user on this machine: chmod o-w ${path}`);
  if (mode & 0o004)
    warnings.push(
      `${path} can be read by every user on this machine, and may hold secrets (SMTP password, webhook and link secrets): chmod o-r ${path}`,
    );
  return warnings;
}

/** `--config` / REHOME_CONFIG when given, else config.yaml in oclif's configDir. */
export function configPath(configDir: string, override?: string): string {
  return override && override !== '' ? override : join(configDir, CONFIG_FILE_NAME);
}

/**
 * Load and validate. A missing file is an empty config (so `hosts add` can create it), unless `mustExist` (a file
 * the operator named with --config).
 */
export async function loadConfig(path: string, options: { mustExist?: boolean } = {}): Promise<LoadedConfig> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && !options.mustExist) return undefined;
    if (err.code === 'ENOENT')
      throw new RehomeError(`Config file ${path} does not exist`, 'config', [], {
        subject: { code: 'config-missing', path },
      });
    throw new RehomeError(`Cannot read config file ${path}: ${err.code ?? err.message}`, 'environment', [
      'Check the file’s permissions, or name another one with --config.',
    ]);
  });
  if (text === undefined) {
    const document = new Document({ hosts: [] });
    return { path, exists: false, document, config: validate(path, document, new LineCounter()) };
  }
  const loaded = parseConfigText(path, text);
  const mode = await stat(path).then(
    (stats) => stats.mode,
    () => 0,
  );
  const warnings = configFileWarnings(path, mode);
  return warnings.length > 0 ? { ...loaded, warnings } : loaded;
}

export function parseConfigText(path: string, text: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const [syntaxError] = document.errors;
  if (syntaxError) {
    const at = lineCounter.linePos(syntaxError.pos[0]);
    throw new RehomeError(
      `${path}:${at.line}:${at.col}: invalid YAML: ${syntaxError.message.split('\n')[0]}`,
      'config',
    );
  }
  checkAliases(path, document, lineCounter);
  return { path, exists: true, document, config: validate(path, document, lineCounter) };
}

/** The YAML library throws a bare ReferenceError on these when converting; say where they are instead. */
function checkAliases(path: string, document: Document, lineCounter: LineCounter): void {
  let problem: string | undefined;
  visit(document, {
    Alias(_key, alias: Alias, ancestors) {
      const at = alias.range ? lineCounter.linePos(alias.range[0]) : undefined;
      const where = at ? `${path}:${at.line}:${at.col}` : path;
      const target = alias.resolve(document);
      if (!target) problem = `${where}: alias *${alias.source} names no anchor &${alias.source} above it`;
      else if (ancestors.includes(target as Node))
        problem = `${where}: alias *${alias.source} refers to a value that contains it`;
      return problem ? visit.BREAK : undefined;
    },
  });
  if (problem)
    throw new RehomeError(`Invalid config:\n${problem}`, 'config', [], {
      subject: { code: 'config-invalid', path },
    });
}

/** Validate a document; each problem is reported with the file, line and column of the value at fault. */
export function validate(path: string, document: Document, lineCounter: LineCounter): RehomeConfig {
  let values: unknown;
  try {
    values = document.toJS({ maxAliasCount: 1000 }) ?? {};
  } catch (error) {
    // The library's limit on alias expansion (a "billion laughs" file), or an alias it cannot resolve.
    throw new RehomeError(`Invalid config:\n${path}: ${(error as Error).message}`, 'config', [], {
      subject: { code: 'config-invalid', path },
    });
  }
  const result = configSchema.safeParse(values);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => describeIssue(path, document, lineCounter, issue));
  throw new RehomeError(`Invalid config:\n${problems.join('\n')}`, 'config', [], {
    subject: { code: 'config-invalid', path },
  });
}

function describeIssue(
  path: string,
  document: Document,
  lineCounter: LineCounter,
  issue: z.core.$ZodIssue,
): string {
  const keys = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  const where = locate(document, lineCounter, keys);
  const field = keys.length > 0 ? keys.join('.') : '(top level)';
  const location = where ? `${path}:${where.line}:${where.col}` : path;
  return `${location}: ${field}: ${issue.message}`;
}

/** The position of the deepest node that exists along the path (a missing key points at its parent). */
function locate(
  document: Document,
  lineCounter: LineCounter,
  keys: (string | number)[],
): { line: number; col: number } | undefined {
  for (let depth = keys.length; depth >= 0; depth--) {
    const prefix = keys.slice(0, depth);
    const node = depth === 0 ? document.contents : document.getIn(prefix, true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range && !isDocument(node)) return lineCounter.linePos(range[0]);
  }
  return undefined;
}

/** Write atomically (temp file + rename), creating the config directory if needed. */
export async function saveConfig(loaded: LoadedConfig): Promise<void> {
  await mkdir(dirname(loaded.path), { recursive: true, mode: 0o700 });
  const temp = `${loaded.path}.${process.pid}.tmp`;
  await writeFile(temp, loaded.document.toString(), { mode: 0o600 });
  await rename(temp, loaded.path);
}

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Document, isDocument, LineCounter, parseDocument } from 'yaml';
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
}

/** `--config` / REHOME_CONFIG when given, else config.yaml in oclif's configDir. */
export function configPath(configDir: string, override?: string): string {
  return override && override !== '' ? override : join(configDir, CONFIG_FILE_NAME);
}

/** Load and validate. A missing file is an empty config (so `hosts add` can create it). */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new RehomeError(`Cannot read config file ${path}: ${err.message}`, 'config');
  });
  if (text === undefined) {
    const document = new Document({ hosts: [] });
    return { path, exists: false, document, config: validate(path, document, new LineCounter()) };
  }
  return parseConfigText(path, text);
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
  return { path, exists: true, document, config: validate(path, document, lineCounter) };
}

/** Validate a document; each problem is reported with the file, line and column of the value at fault. */
export function validate(path: string, document: Document, lineCounter: LineCounter): RehomeConfig {
  const result = configSchema.safeParse(document.toJS() ?? {});
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

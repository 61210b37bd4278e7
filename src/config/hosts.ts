import { isMap, isSeq, LineCounter } from 'yaml';
import { RehomeError } from '../errors.js';
import { type LoadedConfig, validate } from './config-file.js';
import { type HostConfig, type HostConfigInput, hostSchema, LABEL_KEY_PATTERN } from './schema.js';

/** `k=v` strings from the command line into a label map; bad ones are a usage error. */
export function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at) : '';
    if (!LABEL_KEY_PATTERN.test(key)) {
      throw new RehomeError(
        `Bad label ${JSON.stringify(pair)}: expected key=value, e.g. zone=z1`,
        'invalid-input',
      );
    }
    if (key in labels) throw new RehomeError(`Label ${key} given twice`, 'invalid-input');
    labels[key] = pair.slice(at + 1);
  }
  return labels;
}

/**
 * Add a host to the document (comments and layout of the rest are kept). Returns the validated host. Without an
 * address the name is the address; then a bad name is reported once, as a name, not again as an address.
 */
export function addHost(
  loaded: LoadedConfig,
  given: Omit<HostConfigInput, 'address'> & { address?: string | undefined },
): HostConfig {
  const input: HostConfigInput = { ...given, address: given.address ?? given.name };
  const checked = hostSchema.safeParse(input);
  if (!checked.success) {
    const problems = checked.error.issues
      .filter((issue) => given.address !== undefined || issue.path[0] !== 'address')
      .map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new RehomeError(`Bad host ${JSON.stringify(input.name)}: ${problems.join('; ')}`, 'invalid-input');
  }
  if (loaded.config.hosts.some((host) => host.name === input.name)) {
    throw new RehomeError(`Host ${input.name} is already in ${loaded.path}`, 'invalid-input', [], {
      subject: { code: 'host-exists', host: input.name },
    });
  }
  const { document } = loaded;
  const entry: Record<string, unknown> = { name: input.name, address: input.address };
  if (input.labels && Object.keys(input.labels).length > 0) entry.labels = input.labels;
  if (input.imageDir) entry.imageDir = input.imageDir;
  const hosts = document.get('hosts', true);
  if (isSeq(hosts)) hosts.add(document.createNode(entry));
  else if (hosts === undefined || hosts === null || isEmptyScalar(hosts)) {
    if (!isMap(document.contents)) document.contents = document.createNode({}) as typeof document.contents;
    document.set('hosts', document.createNode([entry]));
  } else throw new RehomeError(`${loaded.path}: hosts must be a list`, 'config');
  loaded.config = revalidate(loaded);
  return loaded.config.hosts.find((host) => host.name === input.name) as HostConfig;
}

/** Remove a host by name; unknown names are `notFound`. Returns the removed host. */
export function removeHost(loaded: LoadedConfig, name: string): HostConfig {
  const index = loaded.config.hosts.findIndex((host) => host.name === name);
  const removed = loaded.config.hosts[index];
  if (!removed) {
    const known = loaded.config.hosts.map((host) => host.name);
    throw new RehomeError(`No host named ${name} in ${loaded.path}`, 'not-found', [
      known.length > 0 ? `Known hosts: ${known.join(', ')}` : 'No hosts are configured yet',
    ]);
  }
  loaded.document.deleteIn(['hosts', index]);
  loaded.config = revalidate(loaded);
  return removed;
}

export function findHost(loaded: LoadedConfig, name: string): HostConfig {
  const host = loaded.config.hosts.find((candidate) => candidate.name === name);
  if (!host) throw new RehomeError(`No host named ${name} in ${loaded.path}`, 'not-found');
  return host;
}

function revalidate(loaded: LoadedConfig) {
  // Positions are not meaningful after an edit; the values are what matter here.
  return validate(loaded.path, loaded.document, new LineCounter());
}

function isEmptyScalar(node: unknown): boolean {
  return (
    typeof node === 'object' && node !== null && 'value' in node && (node as { value: unknown }).value == null
  );
}

import type { OwnerMapping } from '../config/schema.js';
import { isSingleAddress } from './address.js';

/** Owner facts read from the domain's rehome metadata (see owner-metadata.ts). */
export interface OwnerMetadata {
  address: string;
  timeZone?: string;
  name?: string;
}

/** What owner resolution looks at: facts from the domain XML, and the config. */
export interface OwnerFacts {
  vmName: string;
  /** The domain's `<rehome:owner>`, when it has one. */
  metadata?: OwnerMetadata;
}

export interface OwnerSources {
  owners?: readonly OwnerMapping[];
  operator?: { address: string; name?: string; timeZone?: string };
}

export interface ResolvedOwner {
  address: string;
  name?: string;
  timeZone?: string;
  /** Channel names to use; undefined means every configured channel. */
  channels?: string[];
  /** Where the answer came from, for `status` and the audit log. */
  source: 'metadata' | 'config' | 'operator';
  /** For `config`: the `vm` pattern that matched. */
  matched?: string;
}

/**
 * The VM's owner: its own metadata first, then the config's `owners` (an exact name before any glob, then the first
 * glob that matches), then the operator. Undefined only when none of these exists.
 */
export function resolveOwner(facts: OwnerFacts, sources: OwnerSources): ResolvedOwner | undefined {
  const metadata = facts.metadata;
  // Metadata that is not one plain address (a list, a name) is not the owner's word: the config or operator decides.
  if (metadata && isSingleAddress(metadata.address.trim())) {
    return withoutUndefined({
      address: metadata.address.trim(),
      name: metadata.name,
      timeZone: metadata.timeZone,
      source: 'metadata',
    });
  }
  const owners = sources.owners ?? [];
  const mapping =
    owners.find((owner) => owner.vm === facts.vmName) ??
    owners.find((owner) => isGlob(owner.vm) && globToRegExp(owner.vm).test(facts.vmName));
  if (mapping) {
    return withoutUndefined({
      address: mapping.address,
      name: mapping.name,
      timeZone: mapping.timeZone,
      channels: mapping.channels ? [...mapping.channels] : undefined,
      source: 'config',
      matched: mapping.vm,
    });
  }
  const operator = sources.operator;
  if (!operator) return undefined;
  return withoutUndefined({
    address: operator.address,
    name: operator.name,
    timeZone: operator.timeZone,
    source: 'operator',
  });
}

function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** `*` any run of characters, `?` one; everything else literal; the whole name must match. */
export function globToRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

function withoutUndefined(value: ResolvedOwner): ResolvedOwner {
  return Object.fromEntries(
    Object.entries(value).filter(([, member]) => member !== undefined),
  ) as ResolvedOwner;
}

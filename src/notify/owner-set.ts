import { RehomeError } from '../errors.js';
import { LibvirtErrorCode } from '../libvirt/errors.js';
import { DomainAffect, DomainXmlFlags } from '../libvirt/protocol/constants.js';
import type { DomainRef } from '../libvirt/protocol/types.js';
import { isSingleAddress, SINGLE_ADDRESS_HINT } from './address.js';
import type { OwnerMetadata } from './owner.js';
import {
  formatOwnerElement,
  REHOME_METADATA_KEY,
  REHOME_METADATA_NS,
  readOwnerMetadata,
} from './owner-metadata.js';
import { canonicalTimeZone } from './time.js';

/** What setting an owner needs of a libvirt connection (LibvirtClient has these). */
export interface MetadataConnection {
  lookupDomainByName(name: string): Promise<DomainRef>;
  setMetadataElement(
    domain: DomainRef,
    metadata: string | null,
    key: string,
    uri: string,
    flags?: number,
  ): Promise<void>;
  getDomainXml(domain: DomainRef, flags?: number): Promise<string>;
}

export interface SetOwnerInput {
  vm: string;
  address: string;
  timeZone?: string;
  /** Look only here; otherwise every host is searched and the VM must be on exactly one. */
  host?: string;
  hosts: readonly string[];
  connect(host: string): Promise<MetadataConnection>;
}

export interface SetOwnerResult {
  vm: string;
  uuid: string;
  host: string;
  owner: OwnerMetadata;
  /** Where it was written: the persistent config always; the live definition too when the VM runs. */
  applied: ('config' | 'live')[];
  /** Hosts that could not be searched (the VM was found elsewhere). */
  unreachable: { host: string; error: string }[];
}

/** Writes the owner into the domain's rehome metadata with libvirt's set-metadata, live and in the config. */
export async function setVmOwner(input: SetOwnerInput): Promise<SetOwnerResult> {
  const address = input.address.trim();
  if (!isSingleAddress(address)) {
    throw new RehomeError(`Bad owner address ${JSON.stringify(input.address)}`, 'invalid-input', [
      SINGLE_ADDRESS_HINT,
    ]);
  }
  let timeZone: string | undefined;
  if (input.timeZone !== undefined) {
    timeZone = canonicalTimeZone(input.timeZone);
    if (!timeZone)
      throw new RehomeError(`Unknown time zone ${JSON.stringify(input.timeZone)}`, 'invalid-input', [
        'e.g. Europe/Paris, America/New_York, UTC',
      ]);
  }
  const { host, connection, domain, unreachable } = await findVm(input);
  const owner: OwnerMetadata = timeZone ? { address, timeZone } : { address };
  const running = domain.id !== -1;
  const flags = running ? DomainAffect.config | DomainAffect.live : DomainAffect.config;
  await connection.setMetadataElement(
    domain,
    formatOwnerElement(owner),
    REHOME_METADATA_KEY,
    REHOME_METADATA_NS,
    flags,
  );
  // Read it back from the persistent definition: what the next define or migration will carry.
  const written = readOwnerMetadata(await connection.getDomainXml(domain, DomainXmlFlags.inactive));
  if (written?.address !== address) {
    throw new RehomeError(
      `libvirt accepted the owner of ${domain.name} on ${host}, but its definition does not show it`,
      'libvirt',
    );
  }
  return {
    vm: domain.name,
    uuid: domain.uuid,
    host,
    owner,
    applied: running ? ['config', 'live'] : ['config'],
    unreachable,
  };
}

async function findVm(input: SetOwnerInput) {
  const hosts = input.host ? [input.host] : input.hosts;
  if (hosts.length === 0)
    throw new RehomeError('No hosts are configured', 'config', [], { subject: { code: 'no-hosts' } });
  const found: { host: string; connection: MetadataConnection; domain: DomainRef }[] = [];
  const unreachable: { host: string; error: string }[] = [];
  await Promise.all(
    hosts.map(async (host) => {
      let connection: MetadataConnection;
      try {
        connection = await input.connect(host);
      } catch (error) {
        if (input.host) throw error;
        unreachable.push({ host, error: (error as Error).message });
        return;
      }
      try {
        found.push({ host, connection, domain: await connection.lookupDomainByName(input.vm) });
      } catch (error) {
        if ((error as { code?: number }).code !== LibvirtErrorCode.noDomain) throw error;
      }
    }),
  );
  if (found.length > 1) {
    const where = found.map((entry) => entry.host).sort();
    throw new RehomeError(
      `VM ${input.vm} is defined on several hosts: ${where.join(', ')}`,
      'invalid-input',
      [`Name one with --host, e.g. --host ${where[0]}`],
    );
  }
  const [match] = found;
  if (!match) {
    const also =
      unreachable.length > 0 ? ` (unreachable: ${unreachable.map((entry) => entry.host).join(', ')})` : '';
    throw new RehomeError(
      `VM ${input.vm} is not defined on ${input.host ?? 'any configured host'}${also}`,
      'not-found',
    );
  }
  return { ...match, unreachable };
}

import type { LibvirtClient } from '../libvirt/client.js';
import { isNoDomain } from '../libvirt/errors.js';
import { DomainState } from '../libvirt/protocol/constants.js';
import type { DomainRef } from '../libvirt/protocol/types.js';
import { observeExport } from '../sync/nbd-export.js';
import type { MigrationContext } from './context.js';

/** Where a domain stands on one host, in the terms the invariants use. `paused` has a live QEMU. */
export type DomainPresence = 'running' | 'paused' | 'shutoff' | 'other' | 'missing';

export function isActive(presence: DomainPresence): boolean {
  return presence === 'running' || presence === 'paused' || presence === 'other';
}

export function presenceOf(state: number): DomainPresence {
  switch (state) {
    case DomainState.running:
    case DomainState.blocked:
      return 'running';
    case DomainState.paused:
      return 'paused';
    case DomainState.shutoff:
      return 'shutoff';
    default:
      return 'other';
  }
}

export async function domainPresence(client: LibvirtClient, uuid: string): Promise<DomainPresence> {
  let domain: DomainRef;
  try {
    domain = await client.lookupDomainByUuid(uuid);
  } catch (err) {
    if (isNoDomain(err)) return 'missing';
    throw err;
  }
  try {
    return presenceOf((await client.getDomainState(domain)).state);
  } catch (err) {
    if (isNoDomain(err)) return 'missing';
    throw err;
  }
}

/** What recovery decides from: the real state of both hosts, not the journal. */
export interface Observed {
  source: DomainPresence;
  target: DomainPresence;
  /** Some local disk still has a block job on the source. */
  jobs: boolean;
  /** Every export's qemu-nbd process is alive (false when there are none). */
  exportsAlive: boolean;
}

export async function observe(ctx: MigrationContext): Promise<Observed> {
  const { record } = ctx;
  const [sourceClient, targetClient] = await Promise.all([
    ctx.hosts.libvirt(record.sourceHost),
    ctx.hosts.libvirt(record.targetHost),
  ]);
  const source = await domainPresence(sourceClient, record.vmUuid);
  const target = await domainPresence(targetClient, record.vmUuid);
  let jobs = false;
  if (source === 'running' || source === 'paused') {
    for (const disk of ctx.job.disks) {
      if (await sourceClient.getBlockJobInfo(ctx.domain, disk.target)) jobs = true;
    }
  }
  let exportsAlive = ctx.job.exports.length > 0;
  if (exportsAlive) {
    const shell = await ctx.hosts.ssh(record.targetHost);
    for (const nbd of ctx.job.exports) {
      if ((await observeExport(shell, nbd)) !== 'alive') exportsAlive = false;
    }
  }
  return { source, target, jobs, exportsAlive };
}

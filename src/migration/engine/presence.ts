import type { LibvirtClient } from '../../libvirt/client.js';
import { isNoDomain } from '../../libvirt/errors.js';
import { DomainState } from '../../libvirt/protocol/constants.js';
import type { DomainRef } from '../../libvirt/protocol/types.js';
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

/**
 * One RPC: libvirt's QEMU driver finds a domain handle by its UUID (the name and id in it are not used), so the state
 * is asked for directly instead of after a lookup.
 */
export async function domainPresence(client: LibvirtClient, domain: DomainRef): Promise<DomainPresence> {
  try {
    return presenceOf((await client.getDomainState(domain)).state);
  } catch (err) {
    if (isNoDomain(err)) return 'missing';
    throw err;
  }
}

export async function sourcePresence(ctx: MigrationContext): Promise<DomainPresence> {
  return domainPresence(await ctx.source(), ctx.domain);
}

export async function targetPresence(ctx: MigrationContext): Promise<DomainPresence> {
  return domainPresence(await ctx.targetClient(), ctx.domain);
}

/** The guard before the source is resumed or started again: never while the guest is active on the target. */
export async function refuseWhileActiveOnTarget(ctx: MigrationContext, act: string): Promise<void> {
  const target = await targetPresence(ctx);
  if (isActive(target))
    throw new Error(`the VM is ${target} on ${ctx.record.targetHost}: not ${act} the source`);
}

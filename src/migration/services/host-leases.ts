import { randomUUID } from 'node:crypto';
import { LockedError, LockLostError } from '../../store/errors.js';
import { judgeHolder } from '../../store/lock-staleness.js';
import type { Lock, LockHolder, LockOwner, Store } from '../../store/types.js';

/** How long a watch replica's claim on a host lasts without renewal; renewed every third of it. */
export const HOST_LEASE_TTL_MS = 15_000;

const HOST_PREFIX = 'host:';
const REPLICA_PREFIX = 'replica:';

export function hostLeaseKey(host: string): string {
  return `${HOST_PREFIX}${host}`;
}

/** A host's lease as the store has it: who watches it (a replica's pid and machine), until when. */
export interface HostLeaseStatus {
  host: string;
  pid: number;
  machine: string;
  since: string;
  expiresAt: string;
}

/** Every host lease in the store, live or expired, for `status`. */
export async function listHostLeases(store: Pick<Store, 'listLockHolders'>): Promise<HostLeaseStatus[]> {
  return (await store.listLockHolders(HOST_PREFIX)).map((holder) => ({
    host: holder.vmKey.slice(HOST_PREFIX.length),
    pid: holder.pid,
    machine: holder.host,
    since: holder.since,
    expiresAt: holder.expiresAt,
  }));
}

export interface LeaseChanges {
  gained: string[];
  lost: string[];
}

/**
 * The hosts one watch replica holds. Replicas share the fleet through leases in the store (the same lock table as the
 * VMs' locks, keyed `host:<name>`; each replica also holds a `replica:<id>` lease so that the others can count it).
 * On every tick a replica renews what it holds, drops what it lost, releases what exceeds its fair share (hosts
 * divided by live replicas, rounded up) and claims free or expired hosts up to that share. A replica that stops
 * renewing (killed, stopped, cut off) loses its hosts to the others within one lease.
 */
export class HostLeases {
  private readonly held = new Map<string, Lock>();
  /** Per held host, until when (this machine's clock) its lease is known to be ours: past it, we stop acting. */
  private readonly validUntil = new Map<string, number>();
  private membership: Lock | undefined;
  private readonly id = randomUUID();

  constructor(
    private readonly store: Store,
    readonly owner: LockOwner,
    private readonly probe: { localHost: string; isPidAlive(pid: number): boolean; now(): Date },
    readonly ttlMs = HOST_LEASE_TTL_MS,
  ) {}

  /** The hosts held now, sorted. */
  hosts(): string[] {
    return [...this.held.keys()].sort();
  }

  /** Held, and renewed within the lease: a replica whose renewals fail stops acting on its hosts before they expire. */
  holds(host: string): boolean {
    return this.held.has(host) && (this.validUntil.get(host) ?? 0) > Date.now();
  }

  /**
   * Renews this host's lease now: true if it is still ours. For the moment before acting on an event, which may have
   * waited in a socket while this process was stopped.
   */
  async confirm(host: string): Promise<boolean> {
    const lease = this.held.get(host);
    if (!lease) return false;
    if (await this.renew(lease)) return true;
    this.drop(host);
    return false;
  }

  /** One round: renew, drop the lost, shed the excess, claim up to the fair share of `hosts`. */
  async tick(hosts: readonly string[]): Promise<LeaseChanges> {
    const lost: string[] = [];
    await this.renewMembership();
    for (const [host, lease] of this.held) {
      const kept = hosts.includes(host) && (await this.renew(lease).catch(() => this.holds(host)));
      if (kept) continue;
      this.drop(host);
      if (hosts.includes(host)) lost.push(host);
      else await lease.release();
    }
    const holders = new Map((await this.store.listLockHolders(HOST_PREFIX)).map((h) => [h.vmKey, h]));
    const replicas = (await this.store.listLockHolders(REPLICA_PREFIX)).filter((h) => this.live(h)).length;
    const share = Math.ceil(hosts.length / Math.max(1, replicas));
    for (const host of this.hosts().slice(share)) {
      await this.held.get(host)?.release();
      this.drop(host);
      lost.push(host);
    }
    const gained: string[] = [];
    for (const host of this.claimOrder(hosts)) {
      if (this.held.size >= share) break;
      if (this.held.has(host)) continue;
      const current = holders.get(hostLeaseKey(host));
      if (current && this.live(current)) continue;
      try {
        const asked = Date.now();
        this.held.set(host, await this.store.acquireLock(hostLeaseKey(host), this.owner, this.ttlMs));
        this.validUntil.set(host, asked + this.ttlMs);
        gained.push(host);
      } catch (err) {
        if (!(err instanceof LockedError)) throw err;
      }
    }
    return { gained, lost };
  }

  /** Gives every lease back (a clean stop): the other replicas claim the hosts at their next tick. */
  async releaseAll(): Promise<void> {
    for (const lease of this.held.values()) await lease.release().catch(() => undefined);
    this.held.clear();
    this.validUntil.clear();
    await this.membership?.release().catch(() => undefined);
    this.membership = undefined;
  }

  private live(holder: LockHolder): boolean {
    return !judgeHolder(holder, { ...this.probe, now: this.probe.now() }).stale;
  }

  private drop(host: string): void {
    this.held.delete(host);
    this.validUntil.delete(host);
  }

  /** True if renewed, false if another replica has it; throws when the store cannot be asked. */
  private async renew(lease: Lock): Promise<boolean> {
    const asked = Date.now();
    try {
      await lease.refresh();
      if (lease.vmKey.startsWith(HOST_PREFIX))
        this.validUntil.set(lease.vmKey.slice(HOST_PREFIX.length), asked + this.ttlMs);
      return true;
    } catch (err) {
      if (err instanceof LockLostError) return false;
      throw err;
    }
  }

  private async renewMembership(): Promise<void> {
    if (this.membership && (await this.renew(this.membership))) return;
    this.membership = await this.store.acquireLock(`${REPLICA_PREFIX}${this.id}`, this.owner, this.ttlMs);
  }

  /** Replicas start their claims at different hosts, so that two starting at once mostly do not collide. */
  private claimOrder(hosts: readonly string[]): string[] {
    const sorted = [...hosts].sort();
    const start = Number.parseInt(this.id.slice(0, 8), 16) % Math.max(1, sorted.length);
    return [...sorted.slice(start), ...sorted.slice(0, start)];
  }
}

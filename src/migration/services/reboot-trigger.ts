import { setTimeout as sleep } from 'node:timers/promises';
import type { LibvirtClient } from '../../libvirt/client.js';
import type { DomainRef } from '../../libvirt/protocol/types.js';
import { pauseDelayMs } from '../engine/faults.js';

/**
 * libvirt's graceful reboot sends several `reboot` events for one reboot (three within 75 ms, measured). Only the
 * first of a burst may start a cutover; a later one belongs to the same reboot.
 */
export class RebootDebouncer {
  private readonly last = new Map<string, number>();

  constructor(private readonly windowMs = 2000) {}

  /** True for the first event of a burst for this VM. */
  accept(vm: string, at: number): boolean {
    const previous = this.last.get(vm);
    this.last.set(vm, at);
    return previous === undefined || at - previous > this.windowMs;
  }
}

export type PauseVerdict =
  | { kind: 'cutover'; latencyMs: number }
  | { kind: 'boot-in-place'; latencyMs: number };

/**
 * A pause that lands within the bound holds the guest in its firmware: cut over. A later one may have caught its
 * kernel mid-boot; it is resumed and boots in place, and the VM stays armed.
 */
export function judgePause(eventAt: number, pausedAt: number, boundMs: number): PauseVerdict {
  const latencyMs = pausedAt - eventAt;
  return latencyMs <= boundMs ? { kind: 'cutover', latencyMs } : { kind: 'boot-in-place', latencyMs };
}

/**
 * Suspends the domain now (called straight from the reboot event handler), then judges the latency. A pause later
 * than the bound is undone at once: the guest boots in place.
 */
export async function pauseNow(
  client: LibvirtClient,
  domain: DomainRef,
  eventAt: number,
  boundMs: number,
): Promise<PauseVerdict> {
  const delay = pauseDelayMs();
  if (delay > 0) await sleep(delay);
  await client.suspendDomain(domain);
  const verdict = judgePause(eventAt, Date.now(), boundMs);
  if (verdict.kind === 'boot-in-place') await client.resumeDomain(domain);
  return verdict;
}

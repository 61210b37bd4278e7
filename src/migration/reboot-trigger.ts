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

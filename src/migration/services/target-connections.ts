import type { HostsPort } from '../types.js';

/**
 * Keeps the connection to each armed VM's target host open, so that a cutover does not open it (SSH handshake, the
 * libvirt connection, the warm shells) while its guest is held paused. Opening it there cost the first cutover of a
 * watch process ~0.7 s in the lab. Says when a host's state changes, not at every call.
 */
export class TargetConnections {
  private readonly state = new Map<string, 'open' | 'failed'>();

  constructor(
    private readonly hosts: HostsPort,
    private readonly say: (message: string) => void,
  ) {}

  /**
   * Opens what is not open yet (a connection that closed is opened again); returns at once. The host connections
   * keep one connection, or one attempt in flight, per host: asking again while an attempt is on joins it.
   */
  keepOpen(targets: Iterable<string>): void {
    for (const host of new Set(targets)) {
      this.hosts.libvirt(host).then(
        () => this.enter(host, 'open', `connected to ${host}, the target of armed VMs`),
        (err: Error) =>
          this.enter(host, 'failed', `cannot connect to ${host} ahead of a cutover: ${err.message}`),
      );
    }
  }

  private enter(host: string, state: 'open' | 'failed', message: string): void {
    if (this.state.get(host) === state) return;
    this.state.set(host, state);
    this.say(message);
  }
}

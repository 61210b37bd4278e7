import { SshConnection, type SshConnectOptions } from './ssh-connection.js';

/** One reused connection per host, keyed by the host's name in the rehome config. */
export class SshPool {
  private readonly connections = new Map<string, Promise<SshConnection>>();

  constructor(private readonly options: SshConnectOptions = {}) {}

  /** The open connection to `name`, or a new one to `destination` (default: the name itself). */
  get(name: string, destination: string = name): Promise<SshConnection> {
    const existing = this.connections.get(name);
    if (existing) {
      return existing.then((connection) =>
        connection.isOpen ? connection : this.reconnect(name, destination),
      );
    }
    return this.reconnect(name, destination);
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const pending of all) {
      const connection = await pending.catch(() => undefined);
      connection?.close();
    }
  }

  private reconnect(name: string, destination: string): Promise<SshConnection> {
    const pending = SshConnection.connect(destination, this.options);
    this.connections.set(name, pending);
    // A failed connect must not be cached: the next get() tries again.
    pending.catch(() => {
      if (this.connections.get(name) === pending) this.connections.delete(name);
    });
    return pending;
  }
}

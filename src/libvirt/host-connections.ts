import { RehomeError } from '../errors.js';
import type { SshConnection } from '../host/ssh-connection.js';
import type { SshPool } from '../host/ssh-pool.js';
import { LibvirtClient } from './client.js';

/** The path of libvirtd's read-write socket on a host. */
export const LIBVIRT_SOCKET = '/run/libvirt/libvirt-sock';

export interface HostAddress {
  name: string;
  /** An ssh destination, resolved with `ssh -G`. */
  address: string;
}

/** Opens a libvirt client over an SSH connection's forwarded stream to the host's libvirt socket. */
export async function openLibvirtOverSsh(ssh: SshConnection): Promise<LibvirtClient> {
  const stream = await ssh.openUnixSocket(LIBVIRT_SOCKET);
  return LibvirtClient.open(stream, { keepalive: { intervalMs: 5000, count: 5 } });
}

/**
 * One SSH connection and one libvirt client per host, opened on first use and reused. A client whose connection
 * closed is opened again on the next call.
 */
export class HostConnections {
  private readonly clients = new Map<string, Promise<LibvirtClient>>();
  private readonly addresses: Map<string, string>;

  constructor(
    hosts: readonly HostAddress[],
    private readonly pool: SshPool,
  ) {
    this.addresses = new Map(hosts.map((host) => [host.name, host.address]));
  }

  /** Async, so that a host missing from the config rejects like any other failure to connect, never throws. */
  async ssh(host: string): Promise<SshConnection> {
    return this.pool.get(host, this.addressOf(host));
  }

  libvirt(host: string): Promise<LibvirtClient> {
    const cached = this.clients.get(host);
    if (cached) return cached;
    const opening = this.ssh(host).then(openLibvirtOverSsh);
    this.clients.set(host, opening);
    opening.then(
      (client) =>
        client.onClose(() => {
          if (this.clients.get(host) === opening) this.clients.delete(host);
        }),
      () => {
        if (this.clients.get(host) === opening) this.clients.delete(host);
      },
    );
    return opening;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(
      clients.map((pending) => pending.then((client) => client.close()).catch(() => undefined)),
    );
    await this.pool.closeAll();
  }

  private addressOf(host: string): string {
    const address = this.addresses.get(host);
    if (address === undefined) {
      throw new RehomeError(`host ${host} is not in the rehome config`, 'not-found', [], {
        subject: { code: 'unknown-host', host },
      });
    }
    return address;
  }
}

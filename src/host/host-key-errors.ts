import { RehomeError } from '../errors.js';

/** The host presented a key that known_hosts does not list: refused unless unknown keys are accepted explicitly. */
export class HostKeyUnknownError extends RehomeError {
  /** `host` is the known_hosts name (`[name]:port` off port 22); `port` gives the ssh command lines in the hints. */
  constructor(
    readonly host: string,
    readonly fingerprint: string,
    readonly keyType: string,
    port = 22,
  ) {
    const bare = host.replace(/^\[(.*)\]:\d+$/, '$1');
    const portOption = port === 22 ? '' : `-p ${port} `;
    super(`Host key for ${host} is not known (${keyType} ${fingerprint}); refusing to connect`, 'host-key', [
      `Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add it with ssh-keyscan ${portOption}${bare} >> ~/.ssh/known_hosts, or connect once with ssh ${portOption}${bare}`,
      'Or set ssh.acceptUnknownHostKeys: true in the rehome config to record unknown keys on first use',
    ]);
    this.name = 'HostKeyUnknownError';
  }
}

/** known_hosts lists other keys for this host. Never accepted: this is what an attack looks like. */
export class HostKeyChangedError extends RehomeError {
  constructor(
    readonly host: string,
    readonly fingerprint: string,
    readonly keyType: string,
    readonly knownIn: string[],
  ) {
    super(
      `HOST KEY CHANGED for ${host}: it presented ${keyType} ${fingerprint}, which does not match known_hosts (${knownIn.join(', ')}); refusing to connect`,
      'host-key',
      [
        'Someone may be intercepting the connection, or the host was reinstalled',
        `If the change is expected, remove the old key with ssh-keygen -R '${host}' and verify the new one`,
      ],
    );
    this.name = 'HostKeyChangedError';
  }
}

/** The presented key is marked @revoked in known_hosts. */
export class HostKeyRevokedError extends RehomeError {
  constructor(
    readonly host: string,
    readonly fingerprint: string,
    readonly keyType: string,
  ) {
    super(`Host key for ${host} (${keyType} ${fingerprint}) is marked @revoked in known_hosts`, 'host-key');
    this.name = 'HostKeyRevokedError';
  }
}

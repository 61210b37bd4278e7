import type { SshConnectOptions } from '../host/ssh-connection.js';
import type { RehomeConfig } from './schema.js';

/** The SSH settings of the config file, as options for `SshConnection.connect` / `SshPool`. */
export function sshOptionsFromConfig(config: RehomeConfig): SshConnectOptions {
  const options: SshConnectOptions = { acceptUnknownHostKeys: config.ssh.acceptUnknownHostKeys };
  if (config.ssh.configFile) options.configFile = config.ssh.configFile;
  return options;
}

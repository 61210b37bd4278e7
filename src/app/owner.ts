import { type SetOwnerInput, type SetOwnerResult, setVmOwner } from '../notify/owner-set.js';
import { loadConfigFile, openHostConnections, type RuntimePaths } from './runtime.js';

/** `rehome owner set`: writes the owner on the VM's host, searching every configured host unless one is named. */
export async function setOwner(
  paths: RuntimePaths,
  request: Pick<SetOwnerInput, 'vm' | 'address' | 'timeZone' | 'host'>,
): Promise<SetOwnerResult> {
  const { config } = await loadConfigFile(paths);
  const connections = openHostConnections(config);
  try {
    return await setVmOwner({
      ...request,
      hosts: config.hosts.map((host) => host.name),
      connect: (host) => connections.libvirt(host),
    });
  } finally {
    await connections.closeAll();
  }
}

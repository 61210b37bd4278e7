/** The facts of one host, read over its SSH connection and its libvirt connection at the same time. */
import type { DiskPolicyOptions } from '../disks/policy.js';
import type { LibvirtClient, LibvirtVersion } from '../libvirt/client.js';
import { ListAllNetworksFlags, ListAllStoragePoolsFlags } from '../libvirt/protocol/constants.js';
import { readDomains } from './domains.js';
import { hostCpuFromCapabilities, machineTypesFromCapabilities, networkBridge } from './host-xml.js';
import { bridgeNames, freeBytesIn, type NodeShell } from './node-commands.js';
import type { HostFactsReport, InventoryHost, NetworkFacts, StoragePoolFacts, Version } from './types.js';

export interface HostReadOptions {
  sharedPrefixes?: readonly string[];
  diskPolicy?: DiskPolicyOptions;
}

export async function readHost(
  host: InventoryHost,
  ssh: NodeShell,
  libvirt: LibvirtClient,
  options: HostReadOptions = {},
): Promise<Omit<HostFactsReport, 'elapsedMs'>> {
  const warnings: string[] = [];
  const optional = <T>(what: string, pending: Promise<T>, fallback: T): Promise<T> =>
    pending.catch((err: Error) => {
      warnings.push(`${what}: ${err.message}`);
      return fallback;
    });
  const [hostname, capabilities, nodeInfo, freeMemory, libvirtVersion, qemuVersion, networks, domains] =
    await Promise.all([
      libvirt.getHostname(),
      libvirt.getCapabilities(),
      libvirt.getNodeInfo(),
      libvirt.getNodeFreeMemory(),
      libvirt.getLibVersion(),
      libvirt.getHypervisorVersion(),
      readNetworks(libvirt),
      readDomains(libvirt, options),
    ]);
  const [imageDirFreeBytes, bridges, storagePools] = await Promise.all([
    optional(`free space in ${host.imageDir}`, freeBytesIn(ssh, host.imageDir), null),
    optional('bridges', bridgeNames(ssh), [] as string[]),
    optional('storage pools', readStoragePools(libvirt), undefined),
  ]);
  return {
    name: host.name,
    ok: true,
    hostname,
    cpu: hostCpuFromCapabilities(capabilities),
    cores: nodeInfo.cpus,
    memoryKiB: nodeInfo.memoryKiB,
    freeMemoryKiB: Math.floor(Number(freeMemory) / 1024),
    imageDir: host.imageDir,
    imageDirFreeBytes,
    bridges,
    networks,
    libvirtVersion: versionOf(libvirtVersion),
    qemuVersion: versionOf(qemuVersion),
    machineTypes: machineTypesFromCapabilities(capabilities),
    ...(storagePools ? { storagePools } : {}),
    domains,
    warnings,
  };
}

/** Active storage pools and the names of their volumes: where a copied volume can go, and which names are taken. */
async function readStoragePools(libvirt: LibvirtClient): Promise<StoragePoolFacts[]> {
  const pools = await libvirt.listAllStoragePools(ListAllStoragePoolsFlags.active);
  const facts = await Promise.all(
    pools.map(async (pool) => ({
      name: pool.name,
      volumes: (await libvirt.listAllStorageVolumes(pool)).map((vol) => vol.name).sort(),
    })),
  );
  return facts.sort((a, b) => a.name.localeCompare(b.name));
}

async function readNetworks(libvirt: LibvirtClient): Promise<NetworkFacts[]> {
  const [all, active] = await Promise.all([
    libvirt.listAllNetworks(),
    libvirt.listAllNetworks(ListAllNetworksFlags.active),
  ]);
  const activeUuids = new Set(active.map((network) => network.uuid));
  const networks = await Promise.all(
    all.map(async (network) => {
      const facts: NetworkFacts = { name: network.name, active: activeUuids.has(network.uuid) };
      const bridge = networkBridge(await libvirt.getNetworkXml(network));
      if (bridge) facts.bridge = bridge;
      return facts;
    }),
  );
  return networks.sort((a, b) => a.name.localeCompare(b.name));
}

function versionOf(version: LibvirtVersion): Version {
  const { major, minor, micro } = version;
  return { major, minor, micro, text: `${major}.${minor}.${micro}` };
}

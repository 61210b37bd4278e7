import type { RehomeConfig } from '../config/schema.js';
import { diskPolicyOptions } from '../disks/options.js';
import { DomainXml } from '../libvirt/domain-xml.js';
import type { VmFacts } from '../placement/types.js';
import type { HostStateRecord, Store } from '../store/types.js';
import { type CompareCpu, compareGuestCpus } from './cpu-compare.js';
import { probeFirmware } from './firmware-probe.js';
import { applyHostPolicy, hostPolicyOverrides } from './host-policies.js';
import { type InventoryConnections, inventoryHosts } from './inventory.js';
import { type PlacementInput, toPlacementFacts } from './placement-facts.js';
import type { Inventory, InventoryCallbacks } from './types.js';

export type FleetFactsOptions = InventoryCallbacks & {
  /** Compare-hypervisor-CPU only for the custom CPUs of the VMs on this host (the one being emptied). */
  cpuHost?: string;
};

/** The configured fleet as the runtime reaches it: the config, the store's host states and the host connections. */
export interface Fleet {
  config: RehomeConfig;
  store: Pick<Store, 'listHostStates'>;
  hosts: InventoryConnections;
}

/**
 * What placement needs, read fresh for `rehome plan drain`, `rehome drain` and `rehome migrate` without --to: every
 * configured host read in parallel over the fleet's connections, per-host policy overrides applied, the store's host
 * states (so cordoned and draining hosts are no targets), and compare-hypervisor-CPU verdicts for the custom CPUs of
 * the VMs on `cpuHost`. Changes nothing anywhere.
 */
export async function readFleetFacts(
  fleet: Fleet,
  options: FleetFactsOptions = {},
): Promise<PlacementInput & { inventory: Inventory }> {
  const { config, hosts: connections } = fleet;
  const { cpuHost, ...callbacks } = options;
  const hostStates = await fleet.store.listHostStates();
  const inventory = await inventoryHosts(config.hosts, connections, {
    ...callbacks,
    sharedPrefixes: config.storage?.sharedPrefixes ?? [],
    diskPolicy: diskPolicyOptions(config),
  });
  const input = withHostStates(withHostPolicies(toPlacementFacts(inventory, config), config), hostStates);
  const compare: CompareCpu = async (host, xml, virttype) =>
    (await connections.libvirt(host)).compareHypervisorCpu(xml, virttype ? { virttype } : {});
  const vms = cpuHost === undefined ? input.vms : input.vms.filter((vm) => vm.host === cpuHost);
  const virtTypes = await domainTypes(connections, vms);
  const hosts = await probeFirmware(input.hosts, vms, (host) => connections.ssh(host));
  return { ...input, hosts: await compareGuestCpus(vms, hosts, compare, virtTypes), inventory };
}

/** `<domain type=…>` of the VMs with a custom CPU model, by UUID; a VM whose XML cannot be read is left out. */
async function domainTypes(
  connections: InventoryConnections,
  vms: readonly VmFacts[],
): Promise<Map<string, string>> {
  const types = new Map<string, string>();
  await Promise.all(
    vms
      .filter((vm) => vm.cpu.mode === 'custom' && vm.cpu.model)
      .map(async (vm) => {
        try {
          const client = await connections.libvirt(vm.host);
          const xml = await client.getDomainXml(await client.lookupDomainByUuid(vm.uuid), 0);
          types.set(vm.uuid, DomainXml.parse(xml).hypervisorType);
        } catch {
          // Compared for the host's default domain type instead.
        }
      }),
  );
  return types;
}

export function withHostPolicies(
  input: PlacementInput,
  config: Pick<RehomeConfig, 'placement'>,
): PlacementInput {
  const hostPolicies = hostPolicyOverrides(config);
  return {
    ...input,
    hosts: input.hosts.map((host) => ({
      ...host,
      policy: applyHostPolicy(host.policy, hostPolicies[host.name]),
    })),
  };
}

export function withHostStates(input: PlacementInput, states: readonly HostStateRecord[]): PlacementInput {
  const byHost = new Map(states.map((record) => [record.host, record.state]));
  return {
    ...input,
    hosts: input.hosts.map((host) => ({ ...host, state: byHost.get(host.name) ?? host.state })),
  };
}

import type { Duplex } from 'node:stream';
import { ConnectOpenFlags, DomainEventId, DomainMetadataType } from './protocol/constants.js';
import { decodeEvent, type LibvirtEvent } from './protocol/events.js';
import * as m from './protocol/messages.js';
import { QEMU_PROGRAM, QemuProcedure, REMOTE_PROGRAM, RemoteProcedure } from './protocol/procedures.js';
import type { DomainRef, NetworkRef, StoragePoolRef, StorageVolRef } from './protocol/types.js';
import { type KeepaliveOptions, RpcConnection } from './rpc-connection.js';
import type { TypedParam } from './xdr.js';

export interface LibvirtClientOptions {
  /** Default "qemu:///system". */
  uri?: string;
  /** Client-side keepalive pings; the connection fails when the server stays silent. */
  keepalive?: KeepaliveOptions;
}

/** A packed libvirt version (major * 1_000_000 + minor * 1_000 + micro), split. */
export interface LibvirtVersion {
  major: number;
  minor: number;
  micro: number;
  packed: number;
}

function unpackVersion(packed: bigint): LibvirtVersion {
  const value = Number(packed);
  return {
    major: Math.floor(value / 1_000_000),
    minor: Math.floor(value / 1_000) % 1_000,
    micro: value % 1_000,
    packed: value,
  };
}

export interface BlockCopyOptions {
  /** bytes per second */
  bandwidth?: bigint;
  granularity?: number;
  bufSize?: bigint;
}

export function blockCopyParams(options: BlockCopyOptions): TypedParam[] {
  const params: TypedParam[] = [];
  if (options.bandwidth !== undefined)
    params.push({ field: 'bandwidth', type: 'ullong', value: options.bandwidth });
  if (options.granularity !== undefined)
    params.push({ field: 'granularity', type: 'uint', value: options.granularity });
  if (options.bufSize !== undefined)
    params.push({ field: 'buf-size', type: 'ullong', value: options.bufSize });
  return params;
}

type EventListener = (event: LibvirtEvent) => void;

/**
 * Typed calls to libvirtd over one RPC connection. Open it over any Duplex (an ssh2 stream-local channel, a unix
 * socket) with `LibvirtClient.open(stream)`, which lists auth types and opens `qemu:///system`.
 */
export class LibvirtClient {
  private readonly listeners = new Set<EventListener>();

  constructor(readonly connection: RpcConnection) {
    connection.onMessage((message) => {
      const event = decodeEvent(message);
      if (event) for (const listener of [...this.listeners]) listener(event);
    });
  }

  static async open(stream: Duplex, options: LibvirtClientOptions = {}): Promise<LibvirtClient> {
    const client = new LibvirtClient(new RpcConnection(stream, { keepalive: options.keepalive }));
    try {
      await client.authList();
      await client.connectOpen(options.uri ?? 'qemu:///system', ConnectOpenFlags.none);
    } catch (error) {
      client.connection.close();
      throw error;
    }
    return client;
  }

  private remote(procedure: number, args?: Buffer): Promise<Buffer> {
    return this.connection.call(REMOTE_PROGRAM, procedure, args);
  }

  // ---- events -----------------------------------------------------------------------------------------------------

  /** Receives every decoded event (domain and QEMU monitor). Returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once when the connection ends (null after close()). */
  onClose(listener: (error: Error | null) => void): () => void {
    return this.connection.onClose(listener);
  }

  /** Registers for one DomainEventId, for one domain or (null) all. Returns the callback id. */
  async registerDomainEvent(eventId: number, domain: DomainRef | null = null): Promise<number> {
    const reply = await this.remote(
      RemoteProcedure.connectDomainEventCallbackRegisterAny,
      m.encodeDomainEventRegister(eventId, domain),
    );
    return m.decodeInt(reply);
  }

  async deregisterDomainEvent(callbackId: number): Promise<void> {
    m.decodeEmpty(
      await this.remote(RemoteProcedure.connectDomainEventCallbackDeregisterAny, m.encodeInt(callbackId)),
    );
  }

  /** Lifecycle, reboot and block job (BLOCK_JOB_2: disk targets) events. Returns the callback ids. */
  async registerStandardDomainEvents(domain: DomainRef | null = null): Promise<number[]> {
    const ids: number[] = [];
    for (const eventId of [DomainEventId.lifecycle, DomainEventId.reboot, DomainEventId.blockJob2]) {
      ids.push(await this.registerDomainEvent(eventId, domain));
    }
    return ids;
  }

  // ---- connection -------------------------------------------------------------------------------------------------

  async authList(): Promise<number[]> {
    return m.decodeAuthList(await this.remote(RemoteProcedure.authList));
  }

  async connectOpen(uri: string | null, flags = 0): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.connectOpen, m.encodeConnectOpen(uri, flags)));
  }

  /** Closes the libvirt connection politely, then the stream. */
  async close(): Promise<void> {
    if (this.connection.closed) return;
    try {
      await this.remote(RemoteProcedure.connectClose);
    } finally {
      this.connection.close();
    }
  }

  async supportsFeature(feature: number): Promise<boolean> {
    return (
      m.decodeInt(
        await this.remote(RemoteProcedure.connectSupportsFeature, m.encodeSupportsFeature(feature)),
      ) !== 0
    );
  }

  async getHostname(): Promise<string> {
    return m.decodeString(await this.remote(RemoteProcedure.connectGetHostname));
  }

  async getLibVersion(): Promise<LibvirtVersion> {
    return unpackVersion(m.decodeUhyper(await this.remote(RemoteProcedure.connectGetLibVersion)));
  }

  /** The hypervisor's (QEMU's) version. */
  async getHypervisorVersion(): Promise<LibvirtVersion> {
    return unpackVersion(m.decodeUhyper(await this.remote(RemoteProcedure.connectGetVersion)));
  }

  async getCapabilities(): Promise<string> {
    return m.decodeString(await this.remote(RemoteProcedure.connectGetCapabilities));
  }

  async getNodeInfo(): Promise<m.NodeInfo> {
    return m.decodeNodeInfo(await this.remote(RemoteProcedure.nodeGetInfo));
  }

  /** Free memory in bytes. */
  async getNodeFreeMemory(): Promise<bigint> {
    return m.decodeUhyper(await this.remote(RemoteProcedure.nodeGetFreeMemory));
  }

  /** Returns a CpuCompareResult value. */
  async compareHypervisorCpu(
    xmlCpu: string,
    target: { emulator?: string; arch?: string; machine?: string; virttype?: string } = {},
    flags = 0,
  ): Promise<number> {
    const reply = await this.remote(
      RemoteProcedure.connectCompareHypervisorCpu,
      m.encodeCompareHypervisorCpu(target, xmlCpu, flags),
    );
    return m.decodeInt(reply);
  }

  // ---- domains ----------------------------------------------------------------------------------------------------

  /** ListAllDomainsFlags; 0 lists every domain. */
  async listAllDomains(flags = 0): Promise<DomainRef[]> {
    return m.decodeListAllDomains(
      await this.remote(RemoteProcedure.connectListAllDomains, m.encodeListAll(flags)),
    );
  }

  async lookupDomainByName(name: string): Promise<DomainRef> {
    return m.decodeDomain(await this.remote(RemoteProcedure.domainLookupByName, m.encodeString(name)));
  }

  async lookupDomainByUuid(uuid: string): Promise<DomainRef> {
    return m.decodeDomain(await this.remote(RemoteProcedure.domainLookupByUuid, m.encodeUuid(uuid)));
  }

  /** DomainXmlFlags, e.g. DomainXmlFlags.inactive. */
  async getDomainXml(domain: DomainRef, flags = 0): Promise<string> {
    return m.decodeString(
      await this.remote(RemoteProcedure.domainGetXmlDesc, m.encodeDomainFlags(domain, flags)),
    );
  }

  async defineDomainXml(xml: string, flags = 0): Promise<DomainRef> {
    return m.decodeDomain(
      await this.remote(RemoteProcedure.domainDefineXmlFlags, m.encodeStringFlags(xml, flags)),
    );
  }

  /** Starts a defined domain; the returned ref carries the new id. */
  async createDomain(domain: DomainRef, flags = 0): Promise<DomainRef> {
    return m.decodeDomain(
      await this.remote(RemoteProcedure.domainCreateWithFlags, m.encodeDomainFlags(domain, flags)),
    );
  }

  /** DestroyFlags */
  async destroyDomain(domain: DomainRef, flags = 0): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.domainDestroyFlags, m.encodeDomainFlags(domain, flags)));
  }

  /** ShutdownMode flags, e.g. ShutdownMode.acpiPowerButton. */
  async shutdownDomain(domain: DomainRef, flags = 0): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.domainShutdownFlags, m.encodeDomainFlags(domain, flags)));
  }

  /** ShutdownMode flags (VIR_DOMAIN_REBOOT_* share the values). */
  async rebootDomain(domain: DomainRef, flags = 0): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.domainReboot, m.encodeDomainFlags(domain, flags)));
  }

  async suspendDomain(domain: DomainRef): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.domainSuspend, m.encodeDomain(domain)));
  }

  async resumeDomain(domain: DomainRef): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.domainResume, m.encodeDomain(domain)));
  }

  /** UndefineFlags */
  async undefineDomain(domain: DomainRef, flags = 0): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.domainUndefineFlags, m.encodeDomainFlags(domain, flags)));
  }

  /** `state` is a DomainState value; `reason` depends on it. */
  async getDomainState(domain: DomainRef): Promise<m.DomainStateInfo> {
    return m.decodeDomainState(
      await this.remote(RemoteProcedure.domainGetState, m.encodeDomainFlags(domain, 0)),
    );
  }

  /**
   * Updates a device live and/or in the config (DomainAffect flags). To set a NIC's link state, pass the NIC's full
   * <interface> XML with <link state='down'/> (what `virsh domif-setlink` does).
   */
  async updateDevice(domain: DomainRef, deviceXml: string, flags = 0): Promise<void> {
    m.decodeEmpty(
      await this.remote(
        RemoteProcedure.domainUpdateDeviceFlags,
        m.encodeDomainString(domain, deviceXml, flags),
      ),
    );
  }

  /** Hot-plugs (DomainAffect.live) and/or adds to the config (DomainAffect.config) one device. */
  async attachDevice(domain: DomainRef, deviceXml: string, flags = 0): Promise<void> {
    m.decodeEmpty(
      await this.remote(
        RemoteProcedure.domainAttachDeviceFlags,
        m.encodeDomainString(domain, deviceXml, flags),
      ),
    );
  }

  /** LifecycleType, LifecycleAction, DomainAffect flags. */
  async setLifecycleAction(domain: DomainRef, type: number, action: number, flags = 0): Promise<void> {
    m.decodeEmpty(
      await this.remote(
        RemoteProcedure.domainSetLifecycleAction,
        m.encodeSetLifecycleAction(domain, type, action, flags),
      ),
    );
  }

  /**
   * Statistics of many domains in one call. `stats` is a DomainStatsTypes mask; an empty `domains` means every
   * domain (then `flags` may filter, as ListAllDomainsFlags-like VIR_CONNECT_GET_ALL_DOMAINS_STATS_* values).
   */
  async getAllDomainStats(
    stats: number,
    domains: readonly DomainRef[] = [],
    flags = 0,
  ): Promise<m.DomainStatsRecord[]> {
    const reply = await this.remote(
      RemoteProcedure.connectGetAllDomainStats,
      m.encodeGetAllDomainStats(domains, stats, flags),
    );
    return m.decodeGetAllDomainStats(reply);
  }

  /** Capacity, allocation and physical size of one disk (target name or path); works on inactive domains too. */
  async getBlockInfo(domain: DomainRef, disk: string, flags = 0): Promise<m.BlockInfo> {
    return m.decodeBlockInfo(
      await this.remote(RemoteProcedure.domainGetBlockInfo, m.encodeDomainString(domain, disk, flags)),
    );
  }

  /**
   * Sets (or with null `metadata`, removes) one namespaced element in the domain's <metadata>, live and/or in the
   * config (DomainAffect flags). `key` is the namespace prefix libvirt writes, `uri` the namespace.
   */
  async setMetadataElement(
    domain: DomainRef,
    metadata: string | null,
    key: string,
    uri: string,
    flags = 0,
  ): Promise<void> {
    m.decodeEmpty(
      await this.remote(
        RemoteProcedure.domainSetMetadata,
        m.encodeSetMetadata(domain, DomainMetadataType.element, metadata, key, uri, flags),
      ),
    );
  }

  /** The element in namespace `uri` (LibvirtError noDomainMetadata when absent). DomainAffect flags. */
  async getMetadataElement(domain: DomainRef, uri: string, flags = 0): Promise<string> {
    return m.decodeString(
      await this.remote(
        RemoteProcedure.domainGetMetadata,
        m.encodeGetMetadata(domain, DomainMetadataType.element, uri, flags),
      ),
    );
  }

  // ---- block jobs -------------------------------------------------------------------------------------------------

  /** Starts a copy of `disk` (target name or path) to the <disk> in destXml. BlockCopyFlags. */
  async blockCopy(
    domain: DomainRef,
    disk: string,
    destXml: string,
    params: readonly TypedParam[] = [],
    flags = 0,
  ): Promise<void> {
    m.decodeEmpty(
      await this.remote(
        RemoteProcedure.domainBlockCopy,
        m.encodeBlockCopy(domain, disk, destXml, params, flags),
      ),
    );
  }

  /** null when the disk has no job. */
  async getBlockJobInfo(domain: DomainRef, disk: string, flags = 0): Promise<m.BlockJobInfo | null> {
    const reply = await this.remote(
      RemoteProcedure.domainGetBlockJobInfo,
      m.encodeDomainString(domain, disk, flags),
    );
    return m.decodeBlockJobInfo(reply);
  }

  /** BlockJobAbortFlags: without pivot, a copy ends and the source stays in use. */
  async blockJobAbort(domain: DomainRef, disk: string, flags = 0): Promise<void> {
    m.decodeEmpty(
      await this.remote(RemoteProcedure.domainBlockJobAbort, m.encodeDomainString(domain, disk, flags)),
    );
  }

  /** A running job's speed; with BlockJobSetSpeedFlags.bandwidthBytes in bytes per second; 0 is unlimited. */
  async blockJobSetSpeed(domain: DomainRef, disk: string, bandwidth: bigint, flags = 0): Promise<void> {
    m.decodeEmpty(
      await this.remote(
        RemoteProcedure.domainBlockJobSetSpeed,
        m.encodeBlockJobSetSpeed(domain, disk, bandwidth, flags),
      ),
    );
  }

  // ---- QEMU program -----------------------------------------------------------------------------------------------

  /** Runs a QMP command (or HMP with QemuMonitorCommandFlags.hmp); returns the raw reply text. */
  async qemuMonitorCommand(domain: DomainRef, command: string, flags = 0): Promise<string> {
    const reply = await this.connection.call(
      QEMU_PROGRAM,
      QemuProcedure.domainMonitorCommand,
      m.encodeDomainString(domain, command, flags),
    );
    return m.decodeString(reply);
  }

  /** QMP events by name (null: all) for a domain (null: all). Returns the callback id. */
  async registerQemuMonitorEvent(domain: DomainRef | null, event: string | null, flags = 0): Promise<number> {
    const reply = await this.connection.call(
      QEMU_PROGRAM,
      QemuProcedure.connectDomainMonitorEventRegister,
      m.encodeQemuMonitorEventRegister(domain, event, flags),
    );
    return m.decodeInt(reply);
  }

  async deregisterQemuMonitorEvent(callbackId: number): Promise<void> {
    const reply = await this.connection.call(
      QEMU_PROGRAM,
      QemuProcedure.connectDomainMonitorEventDeregister,
      m.encodeInt(callbackId),
    );
    m.decodeEmpty(reply);
  }

  // ---- networks and storage pools -------------------------------------------------------------------------------

  async listAllNetworks(flags = 0): Promise<NetworkRef[]> {
    return m.decodeListAllNetworks(
      await this.remote(RemoteProcedure.connectListAllNetworks, m.encodeListAll(flags)),
    );
  }

  async lookupNetworkByName(name: string): Promise<NetworkRef> {
    return m.decodeNamedObject(await this.remote(RemoteProcedure.networkLookupByName, m.encodeString(name)));
  }

  /** Defines a persistent network; it is not started. */
  async defineNetworkXml(xml: string): Promise<NetworkRef> {
    return m.decodeNamedObject(await this.remote(RemoteProcedure.networkDefineXml, m.encodeString(xml)));
  }

  async undefineNetwork(network: NetworkRef): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.networkUndefine, m.encodeNamedObject(network)));
  }

  /** Flags: 1 = VIR_NETWORK_XML_INACTIVE. */
  async getNetworkXml(network: NetworkRef, flags = 0): Promise<string> {
    const reply = await this.remote(
      RemoteProcedure.networkGetXmlDesc,
      m.encodeNamedObjectFlags(network, flags),
    );
    return m.decodeString(reply);
  }

  /**
   * NetworkUpdateCommand, NetworkUpdateSection (e.g. ipDhcpHost with `<host mac=… ip=…/>`), NetworkUpdateFlags.
   * parentIndex -1 picks the first matching parent (the first <ip>).
   */
  async updateNetwork(
    network: NetworkRef,
    command: number,
    section: number,
    xml: string,
    flags = 0,
    parentIndex = -1,
  ): Promise<void> {
    const reply = await this.remote(
      RemoteProcedure.networkUpdate,
      m.encodeNetworkUpdate(network, command, section, parentIndex, xml, flags),
    );
    m.decodeEmpty(reply);
  }

  async lookupStoragePoolByName(name: string): Promise<StoragePoolRef> {
    return m.decodeNamedObject(
      await this.remote(RemoteProcedure.storagePoolLookupByName, m.encodeString(name)),
    );
  }

  async refreshStoragePool(pool: StoragePoolRef, flags = 0): Promise<void> {
    m.decodeEmpty(
      await this.remote(RemoteProcedure.storagePoolRefresh, m.encodeNamedObjectFlags(pool, flags)),
    );
  }

  /** Flags: 2 = VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE. The reply has the same shape as the network list. */
  async listAllStoragePools(flags = 0): Promise<StoragePoolRef[]> {
    return m.decodeListAllNetworks(
      await this.remote(RemoteProcedure.connectListAllStoragePools, m.encodeListAll(flags)),
    );
  }

  async listAllStorageVolumes(pool: StoragePoolRef, flags = 0): Promise<StorageVolRef[]> {
    return m.decodeListAllVolumes(
      await this.remote(RemoteProcedure.storagePoolListAllVolumes, m.encodePoolListAllVolumes(pool, flags)),
    );
  }

  async getStoragePoolXml(pool: StoragePoolRef, flags = 0): Promise<string> {
    return m.decodeString(
      await this.remote(RemoteProcedure.storagePoolGetXmlDesc, m.encodeNamedObjectFlags(pool, flags)),
    );
  }

  async lookupStorageVolByName(pool: StoragePoolRef, name: string): Promise<StorageVolRef> {
    return m.decodeStorageVol(
      await this.remote(RemoteProcedure.storageVolLookupByName, m.encodeStorageVolLookup(pool, name)),
    );
  }

  /** Creates a volume in the pool from its XML (`<volume><name/><capacity unit='bytes'/>…`). */
  async createStorageVolXml(pool: StoragePoolRef, xml: string, flags = 0): Promise<StorageVolRef> {
    return m.decodeStorageVol(
      await this.remote(RemoteProcedure.storageVolCreateXml, m.encodeStorageVolCreate(pool, xml, flags)),
    );
  }

  async deleteStorageVol(vol: StorageVolRef, flags = 0): Promise<void> {
    m.decodeEmpty(await this.remote(RemoteProcedure.storageVolDelete, m.encodeStorageVolFlags(vol, flags)));
  }

  async getStorageVolXml(vol: StorageVolRef, flags = 0): Promise<string> {
    return m.decodeString(
      await this.remote(RemoteProcedure.storageVolGetXmlDesc, m.encodeStorageVolFlags(vol, flags)),
    );
  }

  async getStorageVolPath(vol: StorageVolRef): Promise<string> {
    return m.decodeString(await this.remote(RemoteProcedure.storageVolGetPath, m.encodeStorageVol(vol)));
  }
}

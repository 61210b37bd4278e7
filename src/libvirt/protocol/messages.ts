/**
 * Argument encoders and reply decoders for the calls the facade makes, one per remote_*_args / remote_*_ret struct.
 * Each encoder returns the XDR body; each decoder reads a whole reply body and checks nothing is left over.
 */
import {
  readTypedParam,
  type TypedParam,
  toSafeNumber,
  writeTypedParam,
  XdrReader,
  XdrWriter,
} from '../xdr.js';
import {
  type DomainRef,
  type NetworkRef,
  readDomain,
  readNamedObject,
  readStorageVol,
  type StoragePoolRef,
  type StorageVolRef,
  writeDomain,
  writeNamedObject,
  writeOptionalString,
  writeStorageVol,
  writeUuid,
} from './types.js';

function body(write: (writer: XdrWriter) => void): Buffer {
  const writer = new XdrWriter();
  write(writer);
  return writer.toBuffer();
}

function parse<T>(reply: Buffer, read: (reader: XdrReader) => T): T {
  const reader = new XdrReader(reply);
  const value = read(reader);
  reader.end();
  return value;
}

// ---- generic shapes -----------------------------------------------------------------------------------------------

export const encodeDomain = (domain: DomainRef) => body((w) => writeDomain(w, domain));
export const encodeDomainFlags = (domain: DomainRef, flags: number) =>
  body((w) => {
    writeDomain(w, domain);
    w.uint(flags);
  });
export const encodeString = (value: string) => body((w) => w.string(value));
export const encodeStringFlags = (value: string, flags: number) =>
  body((w) => {
    w.string(value);
    w.uint(flags);
  });
export const encodeFlags = (flags: number) => body((w) => w.uint(flags));
export const encodeInt = (value: number) => body((w) => w.int(value));

export const decodeString = (reply: Buffer) => parse(reply, (r) => r.string());
export const decodeInt = (reply: Buffer) => parse(reply, (r) => r.int());
export const decodeUhyper = (reply: Buffer) => parse(reply, (r) => r.uhyper());
export const decodeDomain = (reply: Buffer) => parse(reply, readDomain);
export const decodeNamedObject = (reply: Buffer) => parse(reply, readNamedObject);
export const decodeEmpty = (reply: Buffer) => parse(reply, () => undefined);

// ---- connection ---------------------------------------------------------------------------------------------------

export const decodeAuthList = (reply: Buffer) => parse(reply, (r) => r.array((x) => x.int(), 20));

export const encodeConnectOpen = (uri: string | null, flags: number) =>
  body((w) => {
    writeOptionalString(w, uri);
    w.uint(flags);
  });

export const encodeSupportsFeature = (feature: number) => encodeInt(feature);

export interface NodeInfo {
  model: string;
  /** KiB */
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export const decodeNodeInfo = (reply: Buffer): NodeInfo =>
  parse(reply, (r) => {
    // char model[32]: a fixed array of XDR chars, each one 4 bytes on the wire.
    const chars: number[] = [];
    for (let i = 0; i < 32; i++) chars.push(r.int() & 0xff);
    const end = chars.indexOf(0);
    const model = Buffer.from(end === -1 ? chars : chars.slice(0, end)).toString('latin1');
    return {
      model,
      memoryKiB: toSafeNumber(r.uhyper(), 'node memory'),
      cpus: r.int(),
      mhz: r.int(),
      nodes: r.int(),
      sockets: r.int(),
      cores: r.int(),
      threads: r.int(),
    };
  });

export const encodeCompareHypervisorCpu = (
  target: { emulator?: string; arch?: string; machine?: string; virttype?: string },
  xmlCpu: string,
  flags: number,
) =>
  body((w) => {
    writeOptionalString(w, target.emulator);
    writeOptionalString(w, target.arch);
    writeOptionalString(w, target.machine);
    writeOptionalString(w, target.virttype);
    w.string(xmlCpu);
    w.uint(flags);
  });

// ---- domains ------------------------------------------------------------------------------------------------------

export const encodeListAll = (flags: number) =>
  body((w) => {
    w.int(1); // need_results
    w.uint(flags);
  });

export const decodeListAllDomains = (reply: Buffer) =>
  parse(reply, (r) => {
    const domains = r.array(readDomain);
    r.uint(); // ret: the count again
    return domains;
  });

export const encodeUuid = (uuid: string) => body((w) => writeUuid(w, uuid));

export interface DomainStateInfo {
  state: number;
  reason: number;
}

export const decodeDomainState = (reply: Buffer): DomainStateInfo =>
  parse(reply, (r) => ({ state: r.int(), reason: r.int() }));

export const encodeDomainString = (domain: DomainRef, value: string, flags: number) =>
  body((w) => {
    writeDomain(w, domain);
    w.string(value);
    w.uint(flags);
  });

/** remote_domain_block_job_set_speed_args: the disk, the speed (uhyper) and flags. */
export const encodeBlockJobSetSpeed = (domain: DomainRef, disk: string, bandwidth: bigint, flags: number) =>
  body((w) => {
    writeDomain(w, domain);
    w.string(disk);
    w.uhyper(bandwidth);
    w.uint(flags);
  });

export const encodeBlockCopy = (
  domain: DomainRef,
  disk: string,
  destXml: string,
  params: readonly TypedParam[],
  flags: number,
) =>
  body((w) => {
    writeDomain(w, domain);
    w.string(disk);
    w.string(destXml);
    w.array(params, writeTypedParam, 16);
    w.uint(flags);
  });

export interface BlockJobInfo {
  /** BlockJobType */
  type: number;
  /** bytes per second, or MiB/s unless VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES was given */
  bandwidth: bigint;
  cur: bigint;
  end: bigint;
}

/** null when the disk has no block job. */
export const decodeBlockJobInfo = (reply: Buffer): BlockJobInfo | null =>
  parse(reply, (r) => {
    const found = r.int();
    const info = { type: r.int(), bandwidth: r.uhyper(), cur: r.uhyper(), end: r.uhyper() };
    return found === 1 ? info : null;
  });

/** remote_connect_get_all_domain_stats_args: an empty list of domains asks for every domain. */
export const encodeGetAllDomainStats = (domains: readonly DomainRef[], stats: number, flags: number) =>
  body((w) => {
    w.array(domains, writeDomain);
    w.uint(stats);
    w.uint(flags);
  });

/** One domain's statistics, as libvirt's flat typed parameters (e.g. "state.state", "block.0.capacity"). */
export interface DomainStatsRecord {
  domain: DomainRef;
  params: TypedParam[];
}

export const decodeGetAllDomainStats = (reply: Buffer): DomainStatsRecord[] =>
  parse(reply, (r) => r.array((x) => ({ domain: readDomain(x), params: x.array(readTypedParam) })));

/** virDomainBlockInfo, in bytes. */
export interface BlockInfo {
  capacity: bigint;
  allocation: bigint;
  physical: bigint;
}

export const decodeBlockInfo = (reply: Buffer): BlockInfo =>
  parse(reply, (r) => ({ allocation: r.uhyper(), capacity: r.uhyper(), physical: r.uhyper() }));

/** remote_domain_set_metadata_args; a null `metadata` removes the element. */
export const encodeSetMetadata = (
  domain: DomainRef,
  type: number,
  metadata: string | null,
  key: string | null,
  uri: string | null,
  flags: number,
) =>
  body((w) => {
    writeDomain(w, domain);
    w.int(type);
    writeOptionalString(w, metadata);
    writeOptionalString(w, key);
    writeOptionalString(w, uri);
    w.uint(flags);
  });

export const encodeGetMetadata = (domain: DomainRef, type: number, uri: string | null, flags: number) =>
  body((w) => {
    writeDomain(w, domain);
    w.int(type);
    writeOptionalString(w, uri);
    w.uint(flags);
  });

export const encodeSetLifecycleAction = (domain: DomainRef, type: number, action: number, flags: number) =>
  body((w) => {
    writeDomain(w, domain);
    w.uint(type);
    w.uint(action);
    w.uint(flags);
  });

export const encodeDomainEventRegister = (eventId: number, domain: DomainRef | null) =>
  body((w) => {
    w.int(eventId);
    w.optional(domain, writeDomain);
  });

export const encodeQemuMonitorEventRegister = (
  domain: DomainRef | null,
  event: string | null,
  flags: number,
) =>
  body((w) => {
    w.optional(domain, writeDomain);
    writeOptionalString(w, event);
    w.uint(flags);
  });

// ---- networks and storage pools -----------------------------------------------------------------------------------

export const decodeListAllNetworks = (reply: Buffer) =>
  parse(reply, (r) => {
    const networks = r.array(readNamedObject);
    r.uint();
    return networks;
  });

export const encodeNamedObject = (object: NetworkRef | StoragePoolRef) =>
  body((w) => writeNamedObject(w, object));

export const encodeNamedObjectFlags = (object: NetworkRef | StoragePoolRef, flags: number) =>
  body((w) => {
    writeNamedObject(w, object);
    w.uint(flags);
  });

export const encodeNetworkUpdate = (
  network: NetworkRef,
  command: number,
  section: number,
  parentIndex: number,
  xml: string,
  flags: number,
) =>
  body((w) => {
    writeNamedObject(w, network);
    w.uint(command);
    w.uint(section);
    w.int(parentIndex);
    w.string(xml);
    w.uint(flags);
  });

export const decodeTypedParams = (reply: Buffer) => parse(reply, (r) => r.array(readTypedParam));

// ---- storage volumes ----------------------------------------------------------------------------------------------

export const encodeStorageVolLookup = (pool: StoragePoolRef, name: string) =>
  body((w) => {
    writeNamedObject(w, pool);
    w.string(name);
  });

export const encodeStorageVolCreate = (pool: StoragePoolRef, xml: string, flags: number) =>
  body((w) => {
    writeNamedObject(w, pool);
    w.string(xml);
    w.uint(flags);
  });

export const encodeStorageVol = (vol: StorageVolRef) => body((w) => writeStorageVol(w, vol));

export const encodeStorageVolFlags = (vol: StorageVolRef, flags: number) =>
  body((w) => {
    writeStorageVol(w, vol);
    w.uint(flags);
  });

export const decodeStorageVol = (reply: Buffer) => parse(reply, readStorageVol);

export const encodePoolListAllVolumes = (pool: StoragePoolRef, flags: number) =>
  body((w) => {
    writeNamedObject(w, pool);
    w.int(1); // need_results
    w.uint(flags);
  });

export const decodeListAllVolumes = (reply: Buffer) =>
  parse(reply, (r) => {
    const volumes = r.array(readStorageVol);
    r.uint();
    return volumes;
  });

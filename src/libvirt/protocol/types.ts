/** Wire shapes of libvirt object handles (remote_nonnull_*), shared by calls and events. */
import { uuidFromBytes, uuidToBytes } from '../uuid.js';
import type { XdrReader, XdrWriter } from '../xdr.js';

/** remote_nonnull_domain. `id` is -1 for a domain that is not running. */
export interface DomainRef {
  name: string;
  uuid: string;
  id: number;
}

/** remote_nonnull_network */
export interface NetworkRef {
  name: string;
  uuid: string;
}

/** remote_nonnull_storage_pool */
export interface StoragePoolRef {
  name: string;
  uuid: string;
}

/** remote_nonnull_storage_vol */
export interface StorageVolRef {
  pool: string;
  name: string;
  key: string;
}

export function writeStorageVol(writer: XdrWriter, vol: StorageVolRef): void {
  writer.string(vol.pool);
  writer.string(vol.name);
  writer.string(vol.key);
}

export function readStorageVol(reader: XdrReader): StorageVolRef {
  return { pool: reader.string(), name: reader.string(), key: reader.string() };
}

const UUID_BYTES = 16;

export function writeUuid(writer: XdrWriter, uuid: string): void {
  writer.opaqueFixed(uuidToBytes(uuid), UUID_BYTES);
}

export function readUuid(reader: XdrReader): string {
  return uuidFromBytes(reader.opaqueFixed(UUID_BYTES));
}

export function writeDomain(writer: XdrWriter, domain: DomainRef): void {
  writer.string(domain.name);
  writeUuid(writer, domain.uuid);
  writer.int(domain.id);
}

export function readDomain(reader: XdrReader): DomainRef {
  return { name: reader.string(), uuid: readUuid(reader), id: reader.int() };
}

/** Networks and storage pools share the {name, uuid} shape. */
export function writeNamedObject(writer: XdrWriter, object: NetworkRef | StoragePoolRef): void {
  writer.string(object.name);
  writeUuid(writer, object.uuid);
}

export function readNamedObject(reader: XdrReader): NetworkRef {
  return { name: reader.string(), uuid: readUuid(reader) };
}

export function writeOptionalString(writer: XdrWriter, value: string | null | undefined): void {
  writer.optional(value, (w, v) => w.string(v));
}

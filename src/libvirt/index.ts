export {
  type BlockCopyOptions,
  blockCopyParams,
  LibvirtClient,
  type LibvirtClientOptions,
  type LibvirtVersion,
} from './client.js';
export {
  ConnectionClosedError,
  KeepaliveTimeoutError,
  LibvirtError,
  LibvirtErrorCode,
  ProtocolError,
} from './errors.js';
export * from './protocol/constants.js';
export type {
  BlockJobDomainEvent,
  LibvirtEvent,
  LifecycleDomainEvent,
  QemuMonitorEvent,
  RebootDomainEvent,
} from './protocol/events.js';
export type { BlockJobInfo, DomainStateInfo, NodeInfo } from './protocol/messages.js';
export type { DomainRef, NetworkRef, StoragePoolRef, StorageVolRef } from './protocol/types.js';
export { type KeepaliveOptions, RpcConnection } from './rpc-connection.js';
export { uuidFromBytes, uuidToBytes } from './uuid.js';
export type { TypedParam, TypedParamValue } from './xdr.js';

import { XdrReader } from './xdr.js';

/** A few virErrorNumber values callers branch on (libvirt's virterror.h). */
export const LibvirtErrorCode = {
  internalError: 1,
  noSupport: 3,
  operationFailed: 9,
  operationInvalid: 55,
  noDomain: 42,
  noNetwork: 43,
  invalidArg: 8,
  noStoragePool: 49,
  noStorageVol: 50,
  authFailed: 45,
} as const;

export interface RemoteErrorFields {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  str1: string | null;
  str2: string | null;
  str3: string | null;
  int1: number;
  int2: number;
}

/** An error reported by libvirtd for one call (a `remote_error` struct). */
export class LibvirtError extends Error implements RemoteErrorFields {
  readonly code: number;
  readonly domain: number;
  readonly level: number;
  readonly str1: string | null;
  readonly str2: string | null;
  readonly str3: string | null;
  readonly int1: number;
  readonly int2: number;
  /** Which call failed, as "program/procedure". */
  readonly procedure?: string;

  constructor(fields: RemoteErrorFields, procedure?: string) {
    super(fields.message ?? `libvirt error code ${fields.code}`);
    this.name = 'LibvirtError';
    this.code = fields.code;
    this.domain = fields.domain;
    this.level = fields.level;
    this.str1 = fields.str1;
    this.str2 = fields.str2;
    this.str3 = fields.str3;
    this.int1 = fields.int1;
    this.int2 = fields.int2;
    this.procedure = procedure;
  }
}

/** The domain does not exist on that host (libvirt's VIR_ERR_NO_DOMAIN). */
export function isNoDomain(err: unknown): err is LibvirtError {
  return err instanceof LibvirtError && err.code === LibvirtErrorCode.noDomain;
}

/** The storage volume does not exist in that pool (VIR_ERR_NO_STORAGE_VOL). */
export function isNoStorageVol(err: unknown): err is LibvirtError {
  return err instanceof LibvirtError && err.code === LibvirtErrorCode.noStorageVol;
}

/** The connection ended, or failed, before a reply came. */
export class ConnectionClosedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionClosedError';
  }
}

/**
 * The peer sent something this client cannot take (a bad frame, an undecodable event) or a listener of its events
 * threw: the connection is closed with this error, as any lost one, and the process goes on.
 */
export class ProtocolError extends ConnectionClosedError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProtocolError';
  }
}

export class KeepaliveTimeoutError extends ConnectionClosedError {
  constructor(silentMs: number) {
    super(`libvirt connection silent for ${silentMs} ms: keepalive timed out`);
    this.name = 'KeepaliveTimeoutError';
  }
}

function skipNonnullDomain(reader: XdrReader): void {
  reader.string();
  reader.opaqueFixed(16);
  reader.int();
}

function skipNonnullNetwork(reader: XdrReader): void {
  reader.string();
  reader.opaqueFixed(16);
}

export function decodeRemoteError(body: Buffer): RemoteErrorFields {
  const reader = new XdrReader(body);
  const code = reader.int();
  const domain = reader.int();
  const message = reader.optional((r) => r.string());
  const level = reader.int();
  reader.optional(skipNonnullDomain);
  const str1 = reader.optional((r) => r.string());
  const str2 = reader.optional((r) => r.string());
  const str3 = reader.optional((r) => r.string());
  const int1 = reader.int();
  const int2 = reader.int();
  reader.optional(skipNonnullNetwork);
  return { code, domain, message, level, str1, str2, str3, int1, int2 };
}

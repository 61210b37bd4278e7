/** Decoders for the event messages (type 2) this client subscribes to. */
import type { IncomingMessage } from '../rpc-connection.js';
import { XdrReader } from '../xdr.js';
import { QEMU_PROGRAM, QemuProcedure, REMOTE_PROGRAM, RemoteProcedure } from './procedures.js';
import { type DomainRef, readDomain } from './types.js';

export interface LifecycleDomainEvent {
  kind: 'lifecycle';
  callbackId: number;
  domain: DomainRef;
  /** LifecycleEvent value (started, stopped, ...). */
  event: number;
  /** Event-specific detail (e.g. VIR_DOMAIN_EVENT_STOPPED_DESTROYED). */
  detail: number;
}

export interface RebootDomainEvent {
  kind: 'reboot';
  callbackId: number;
  domain: DomainRef;
}

export interface BlockJobDomainEvent {
  kind: 'block-job';
  callbackId: number;
  domain: DomainRef;
  /** The disk target (BLOCK_JOB_2, e.g. "vda") or the disk path (BLOCK_JOB). */
  disk: string;
  /** BlockJobType */
  type: number;
  /** BlockJobStatus */
  status: number;
}

export interface QemuMonitorEvent {
  kind: 'qemu-monitor';
  callbackId: number;
  domain: DomainRef;
  event: string;
  seconds: bigint;
  micros: number;
  /** The event's "data" member as JSON text, if any. */
  details: string | null;
}

export type LibvirtEvent = LifecycleDomainEvent | RebootDomainEvent | BlockJobDomainEvent | QemuMonitorEvent;

/** Returns the typed event, or null for a message this client does not decode. */
export function decodeEvent(message: IncomingMessage): LibvirtEvent | null {
  const reader = new XdrReader(message.body);
  if (message.program === REMOTE_PROGRAM) {
    switch (message.procedure) {
      case RemoteProcedure.domainEventCallbackLifecycle:
        return {
          kind: 'lifecycle',
          callbackId: reader.int(),
          domain: readDomain(reader),
          event: reader.int(),
          detail: reader.int(),
        };
      case RemoteProcedure.domainEventCallbackReboot:
        return { kind: 'reboot', callbackId: reader.int(), domain: readDomain(reader) };
      case RemoteProcedure.domainEventCallbackBlockJob:
      case RemoteProcedure.domainEventBlockJob2:
        return {
          kind: 'block-job',
          callbackId: reader.int(),
          domain: readDomain(reader),
          disk: reader.string(),
          type: reader.int(),
          status: reader.int(),
        };
      default:
        return null;
    }
  }
  if (message.program === QEMU_PROGRAM && message.procedure === QemuProcedure.domainMonitorEvent) {
    return {
      kind: 'qemu-monitor',
      callbackId: reader.int(),
      domain: readDomain(reader),
      event: reader.string(),
      seconds: reader.hyper(),
      micros: reader.uint(),
      details: reader.optional((r) => r.string()),
    };
  }
  return null;
}

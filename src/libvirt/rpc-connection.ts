import type { Duplex } from 'node:stream';
import {
  ConnectionClosedError,
  decodeRemoteError,
  KeepaliveTimeoutError,
  LibvirtError,
  ProtocolError,
} from './errors.js';
import {
  encodePacket,
  MessageStatus,
  MessageType,
  type Packet,
  PacketDecoder,
  type PacketHeader,
  PROTOCOL_VERSION,
} from './packet.js';

/** virkeepaliveprotocol.x: PING and PONG are bodiless messages of this program. */
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KeepaliveProcedure = { ping: 1, pong: 2 } as const;

export interface KeepaliveOptions {
  /** Send a PING after this much silence from the server. */
  intervalMs: number;
  /** Fail the connection when this many PINGs in a row went unanswered (and so at least `intervalMs * count` of silence). */
  count: number;
}

export interface RpcConnectionOptions {
  /** Client-side keepalive. Off by default; incoming PINGs are always answered. */
  keepalive?: KeepaliveOptions;
}

/** A server-initiated message (an event), type 2 in the header. */
export interface IncomingMessage {
  program: number;
  procedure: number;
  body: Buffer;
}

interface PendingCall {
  program: number;
  procedure: number;
  resolve: (body: Buffer) => void;
  reject: (error: Error) => void;
}

type MessageListener = (message: IncomingMessage) => void;
type CloseListener = (error: Error | null) => void;

/**
 * One libvirt RPC connection over any Duplex stream: frames packets, matches replies to calls by serial, hands
 * events to listeners, answers keepalive pings, and fails every pending call when the stream ends.
 */
export class RpcConnection {
  private readonly decoder = new PacketDecoder();
  private readonly pending = new Map<number, PendingCall>();
  private readonly messageListeners = new Set<MessageListener>();
  private readonly closeListeners = new Set<CloseListener>();
  private nextSerial = 1;
  private closedWith: Error | null | undefined;
  private lastReceivedAt = Date.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: Duplex,
    options: RpcConnectionOptions = {},
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (error: Error) =>
      this.fail(new ConnectionClosedError(`libvirt stream error: ${error.message}`, { cause: error })),
    );
    stream.on('end', () => this.fail(new ConnectionClosedError('libvirt stream ended')));
    stream.on('close', () => this.fail(new ConnectionClosedError('libvirt stream closed')));
    if (options.keepalive) this.startKeepalive(options.keepalive);
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Sends a call and resolves with the reply body; a reply with error status rejects with a LibvirtError. */
  call(program: number, procedure: number, body: Buffer = Buffer.alloc(0)): Promise<Buffer> {
    if (this.closedWith !== undefined) {
      return Promise.reject(this.closedWith ?? new ConnectionClosedError('libvirt connection is closed'));
    }
    const serial = this.nextSerial;
    this.nextSerial = (this.nextSerial + 1) >>> 0 || 1;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(serial, { program, procedure, resolve, reject });
      this.send(
        {
          program,
          version: PROTOCOL_VERSION,
          procedure,
          type: MessageType.call,
          serial,
          status: MessageStatus.ok,
        },
        body,
      );
    });
  }

  /** Subscribes to server messages (events). Returns the unsubscribe function. */
  onMessage(listener: MessageListener): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Called once when the connection ends: null for a local close(), the cause otherwise. */
  onClose(listener: CloseListener): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Ends the stream; calls still pending are rejected. */
  close(): void {
    this.shutDown(null);
    this.stream.end();
  }

  private send(header: PacketHeader, body: Buffer): void {
    this.stream.write(encodePacket(header, body));
  }

  /**
   * Runs in the stream's data handler: nothing may throw out of it, or one bad byte from one libvirtd would end the
   * process. A framing error, an event that does not decode or a listener that throws closes this connection only.
   */
  private onData(chunk: Buffer): void {
    if (this.closedWith !== undefined) return;
    this.lastReceivedAt = Date.now();
    try {
      for (const packet of this.decoder.push(chunk)) {
        this.dispatch(packet);
        if (this.closedWith !== undefined) return;
      }
    } catch (error) {
      this.fail(new ProtocolError(`libvirt protocol error: ${(error as Error).message}`, { cause: error }));
      this.stream.destroy();
    }
  }

  private dispatch({ header, body }: Packet): void {
    if (header.program === KEEPALIVE_PROGRAM) {
      if (header.procedure === KeepaliveProcedure.ping) this.sendKeepalive(KeepaliveProcedure.pong);
      return;
    }
    if (header.type === MessageType.message) {
      const message = { program: header.program, procedure: header.procedure, body };
      for (const listener of [...this.messageListeners]) listener(message);
      return;
    }
    if (header.type !== MessageType.reply) return; // streams are not used by this client
    const call = this.pending.get(header.serial);
    if (!call) return;
    this.pending.delete(header.serial);
    if (header.status === MessageStatus.ok) {
      call.resolve(body);
      return;
    }
    try {
      call.reject(
        new LibvirtError(decodeRemoteError(body), `${call.program.toString(16)}/${call.procedure}`),
      );
    } catch (error) {
      call.reject(new Error(`undecodable libvirt error reply: ${(error as Error).message}`));
    }
  }

  private sendKeepalive(procedure: number): void {
    if (this.closed) return;
    this.send(
      {
        program: KEEPALIVE_PROGRAM,
        version: PROTOCOL_VERSION,
        procedure,
        type: MessageType.message,
        serial: 0,
        status: MessageStatus.ok,
      },
      Buffer.alloc(0),
    );
  }

  private startKeepalive({ intervalMs, count }: KeepaliveOptions): void {
    // Counted in unanswered PINGs, not in elapsed time alone: a busy event loop that fires this timer late must not
    // declare a healthy server dead before it was asked even once.
    let unansweredPings = 0;
    this.keepaliveTimer = setInterval(() => {
      const silentMs = Date.now() - this.lastReceivedAt;
      if (silentMs < intervalMs) {
        unansweredPings = 0;
      } else if (unansweredPings >= count && silentMs >= intervalMs * count) {
        this.fail(new KeepaliveTimeoutError(silentMs));
        this.stream.destroy();
      } else {
        this.sendKeepalive(KeepaliveProcedure.ping);
        unansweredPings++;
      }
    }, intervalMs);
    this.keepaliveTimer.unref();
  }

  private fail(error: Error): void {
    this.shutDown(error);
  }

  private shutDown(error: Error | null): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = error;
    clearInterval(this.keepaliveTimer);
    const rejection = error ?? new ConnectionClosedError('libvirt connection closed');
    for (const call of this.pending.values()) call.reject(rejection);
    this.pending.clear();
    for (const listener of [...this.closeListeners]) {
      try {
        listener(error);
      } catch {
        // A close listener that throws must not keep the others from hearing of it, nor end the process.
      }
    }
  }
}

/**
 * libvirt RPC framing (virnetprotocol.x): a 4-byte big-endian length that counts itself, a 24-byte header, then the
 * XDR body.
 */

export const MessageType = { call: 0, reply: 1, message: 2, stream: 3 } as const;
export const MessageStatus = { ok: 0, error: 1, continue: 2 } as const;

export const PROTOCOL_VERSION = 1;
const LENGTH_BYTES = 4;
const HEADER_BYTES = 24;
/** VIR_NET_MESSAGE_MAX plus the length word. */
export const MAX_PACKET_BYTES = 16_777_216 + LENGTH_BYTES;

export interface PacketHeader {
  program: number;
  version: number;
  procedure: number;
  type: number;
  serial: number;
  status: number;
}

export interface Packet {
  header: PacketHeader;
  body: Buffer;
}

export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

export function encodePacket(header: PacketHeader, body: Buffer = Buffer.alloc(0)): Buffer {
  const total = LENGTH_BYTES + HEADER_BYTES + body.length;
  if (total > MAX_PACKET_BYTES)
    throw new FramingError(`packet of ${total} bytes exceeds ${MAX_PACKET_BYTES}`);
  const packet = Buffer.alloc(total);
  packet.writeUInt32BE(total, 0);
  packet.writeUInt32BE(header.program, 4);
  packet.writeUInt32BE(header.version, 8);
  packet.writeInt32BE(header.procedure, 12);
  packet.writeInt32BE(header.type, 16);
  packet.writeUInt32BE(header.serial, 20);
  packet.writeInt32BE(header.status, 24);
  body.copy(packet, LENGTH_BYTES + HEADER_BYTES);
  return packet;
}

/**
 * Accumulates stream chunks and yields whole packets, whatever the chunk boundaries. Chunks of a packet not yet
 * complete are kept in a list and concatenated once, when the packet's last byte has arrived: buffering a 16 MiB packet
 * in 4 KiB chunks costs one copy, not one copy of everything pending per chunk.
 */
export class PacketDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The length word of the packet being buffered, once its first 4 bytes are in; 0 before. */
  private expected = 0;

  push(chunk: Buffer): Packet[] {
    const packets: Packet[] = [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.expected === 0) {
        if (this.buffered < LENGTH_BYTES) break;
        const total = this.peekLength();
        if (total < LENGTH_BYTES + HEADER_BYTES || total > MAX_PACKET_BYTES) {
          throw new FramingError(`invalid packet length ${total}`);
        }
        this.expected = total;
      }
      if (this.buffered < this.expected) break;
      const pending = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      const packet = pending.subarray(0, this.expected);
      const rest = pending.subarray(this.expected);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.expected = 0;
      packets.push({
        header: {
          program: packet.readUInt32BE(4),
          version: packet.readUInt32BE(8),
          procedure: packet.readInt32BE(12),
          type: packet.readInt32BE(16),
          serial: packet.readUInt32BE(20),
          status: packet.readInt32BE(24),
        },
        body: Buffer.from(packet.subarray(LENGTH_BYTES + HEADER_BYTES)),
      });
    }
    return packets;
  }

  /** The length word at the start of the buffered bytes, which may span the first chunks. */
  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= LENGTH_BYTES) return first.readUInt32BE(0);
    const head = Buffer.alloc(LENGTH_BYTES);
    let at = 0;
    for (const chunk of this.chunks) {
      at += chunk.copy(head, at, 0, Math.min(chunk.length, LENGTH_BYTES - at));
      if (at === LENGTH_BYTES) break;
    }
    return head.readUInt32BE(0);
  }
}

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

/** Accumulates stream chunks and yields whole packets, whatever the chunk boundaries. */
export class PacketDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Packet[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const packets: Packet[] = [];
    while (this.pending.length >= LENGTH_BYTES) {
      const total = this.pending.readUInt32BE(0);
      if (total < LENGTH_BYTES + HEADER_BYTES || total > MAX_PACKET_BYTES) {
        throw new FramingError(`invalid packet length ${total}`);
      }
      if (this.pending.length < total) break;
      const packet = this.pending.subarray(0, total);
      this.pending = this.pending.subarray(total);
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
}

/** Properties of the libvirt wire code: XDR round trips, typed errors on any bytes, packet reassembly. */
import { Duplex } from 'node:stream';
import test from 'ava';
import fc from 'fast-check';
import { ProtocolError } from '../../src/libvirt/errors.js';
import { encodePacket, FramingError, PacketDecoder, type PacketHeader } from '../../src/libvirt/packet.js';
import { decodeEvent } from '../../src/libvirt/protocol/events.js';
import { QEMU_PROGRAM, REMOTE_PROGRAM } from '../../src/libvirt/protocol/procedures.js';
import { RpcConnection } from '../../src/libvirt/rpc-connection.js';
import { XdrError, XdrReader, XdrWriter } from '../../src/libvirt/xdr.js';
import { checkProperty, returnsOrThrows } from '../helpers/fuzz.js';

type Field =
  | { kind: 'int'; value: number }
  | { kind: 'uint'; value: number }
  | { kind: 'hyper'; value: bigint }
  | { kind: 'uhyper'; value: bigint }
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'opaque'; value: Uint8Array }
  | { kind: 'optional'; value: string | null }
  | { kind: 'array'; value: number[] };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }).map((value) => ({ kind: 'int' as const, value })),
  fc.integer({ min: 0, max: 0xffff_ffff }).map((value) => ({ kind: 'uint' as const, value })),
  fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((value) => ({ kind: 'hyper' as const, value })),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((value) => ({ kind: 'uhyper' as const, value })),
  fc.boolean().map((value) => ({ kind: 'bool' as const, value })),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((value) => ({ kind: 'string' as const, value })),
  fc.uint8Array({ maxLength: 40 }).map((value) => ({ kind: 'opaque' as const, value })),
  fc.option(fc.string({ maxLength: 20 })).map((value) => ({ kind: 'optional' as const, value })),
  fc
    .array(fc.integer({ min: -5, max: 5 }), { maxLength: 8 })
    .map((value) => ({ kind: 'array' as const, value })),
);

function write(writer: XdrWriter, f: Field): void {
  switch (f.kind) {
    case 'int':
      writer.int(f.value);
      break;
    case 'uint':
      writer.uint(f.value);
      break;
    case 'hyper':
      writer.hyper(f.value);
      break;
    case 'uhyper':
      writer.uhyper(f.value);
      break;
    case 'bool':
      writer.bool(f.value);
      break;
    case 'string':
      writer.string(f.value);
      break;
    case 'opaque':
      writer.opaqueVar(f.value);
      break;
    case 'optional':
      writer.optional(f.value, (w, s) => w.string(s));
      break;
    case 'array':
      writer.array(f.value, (w, n) => w.int(n));
      break;
  }
}

function read(reader: XdrReader, kind: Field['kind']): Field['value'] {
  switch (kind) {
    case 'int':
      return reader.int();
    case 'uint':
      return reader.uint();
    case 'hyper':
      return reader.hyper();
    case 'uhyper':
      return reader.uhyper();
    case 'bool':
      return reader.bool();
    case 'string':
      return reader.string();
    case 'opaque':
      return new Uint8Array(reader.opaqueVar());
    case 'optional':
      return reader.optional((r) => r.string());
    case 'array':
      return reader.array((r) => r.int());
  }
}

function encode(fields: readonly Field[]): Buffer {
  const writer = new XdrWriter(8);
  for (const f of fields) write(writer, f);
  return writer.toBuffer();
}

test('XDR: whatever is written reads back the same, to the last byte', (t) => {
  checkProperty(
    t,
    fc.property(fc.array(field, { maxLength: 12 }), (fields) => {
      const reader = new XdrReader(encode(fields));
      const back = fields.map((f) => read(reader, f.kind));
      reader.end();
      return (
        JSON.stringify(back, bigints) ===
        JSON.stringify(
          fields.map((f) => f.value),
          bigints,
        )
      );
    }),
    300,
  );
});

test('XDR: a truncated message is an XdrError, never another exception', (t) => {
  checkProperty(
    t,
    fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), fc.nat(), (fields, cut) => {
      const bytes = encode(fields);
      const truncated = bytes.subarray(0, cut % bytes.length);
      const reader = new XdrReader(truncated);
      return !returnsOrThrows(() => {
        for (const f of fields) read(reader, f.kind);
      }, XdrError);
    }),
    300,
  );
});

test('XDR: any bytes read as any sequence of fields give values or an XdrError', (t) => {
  checkProperty(
    t,
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(field, { maxLength: 10 }), (bytes, shape) => {
      const reader = new XdrReader(Buffer.from(bytes));
      returnsOrThrows(() => {
        for (const f of shape) read(reader, f.kind);
      }, XdrError);
      return true;
    }),
    500,
  );
});

const EVENT_PROCEDURES = [318, 319, 326, 339];

test('events: any body of an event message decodes to an event, null, or an XdrError', (t) => {
  checkProperty(
    t,
    fc.property(
      fc.constantFrom(REMOTE_PROGRAM, QEMU_PROGRAM),
      fc.oneof(fc.constantFrom(...EVENT_PROCEDURES, 1), fc.integer()),
      fc.uint8Array({ maxLength: 96 }),
      (program, procedure, body) => {
        returnsOrThrows(() => decodeEvent({ program, procedure, body: Buffer.from(body) }), XdrError);
        return true;
      },
    ),
    500,
  );
});

const header: fc.Arbitrary<PacketHeader> = fc.record({
  program: fc.constantFrom(REMOTE_PROGRAM, QEMU_PROGRAM, 0x6b656570),
  version: fc.constant(1),
  procedure: fc.integer({ min: 0, max: 500 }),
  type: fc.integer({ min: 0, max: 3 }),
  serial: fc.integer({ min: 0, max: 0xffff_ffff }),
  status: fc.integer({ min: 0, max: 2 }),
});

/** Splits `bytes` at the given cut points (taken modulo its length). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

test('packets: any sequence of packets, cut anywhere, comes out whole and in order', (t) => {
  checkProperty(
    t,
    fc.property(
      fc.array(fc.tuple(header, fc.uint8Array({ maxLength: 300 })), { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (packets, cuts) => {
        const wire = Buffer.concat(packets.map(([h, body]) => encodePacket(h, Buffer.from(body))));
        const decoder = new PacketDecoder();
        const out = split(wire, cuts).flatMap((chunk) => decoder.push(chunk));
        return (
          out.length === packets.length &&
          out.every(
            (p, i) =>
              JSON.stringify(p.header) === JSON.stringify(packets[i]?.[0]) &&
              p.body.equals(Buffer.from(packets[i]?.[1] ?? [])),
          )
        );
      },
    ),
    300,
  );
});

test('packets: any bytes give packets or a FramingError', (t) => {
  checkProperty(
    t,
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
      const decoder = new PacketDecoder();
      returnsOrThrows(() => {
        for (const chunk of split(Buffer.from(bytes), cuts)) decoder.push(chunk);
      }, FramingError);
      return true;
    }),
    500,
  );
});

class SilentStream extends Duplex {
  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    callback();
  }
  override _read(): void {}
}

test('connection: no bytes a libvirtd sends make the stream handler throw; bad ones close with a ProtocolError', (t) => {
  checkProperty(
    t,
    fc.property(
      fc.array(fc.tuple(header, fc.uint8Array({ maxLength: 64 })), { maxLength: 4 }),
      fc.uint8Array({ maxLength: 64 }),
      (packets, garbage) => {
        const stream = new SilentStream();
        const connection = new RpcConnection(stream);
        let closedWith: Error | null | undefined;
        connection.onClose((error) => {
          closedWith = error;
        });
        // Event messages of the kinds the client decodes, with random bodies, then raw garbage.
        const wire = Buffer.concat([
          ...packets.map(([h, body]) =>
            encodePacket(
              { ...h, type: 2, procedure: EVENT_PROCEDURES[h.procedure % 4] as number },
              Buffer.from(body),
            ),
          ),
          Buffer.from(garbage),
        ]);
        const listen = (connection as unknown as { onData(chunk: Buffer): void }).onData.bind(connection);
        listen(wire); // what the stream's 'data' handler runs; it must not throw
        return closedWith === undefined || closedWith instanceof ProtocolError;
      },
    ),
    300,
  );
});

function bigints(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return [...value];
  return value;
}

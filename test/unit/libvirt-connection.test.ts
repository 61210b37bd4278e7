import { readFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import test from 'ava';
import { LibvirtClient } from '../../src/libvirt/client.js';
import {
  ConnectionClosedError,
  KeepaliveTimeoutError,
  LibvirtError,
  ProtocolError,
} from '../../src/libvirt/errors.js';
import {
  encodePacket,
  MessageStatus,
  MessageType,
  type Packet,
  PacketDecoder,
} from '../../src/libvirt/packet.js';
import { REMOTE_PROGRAM, RemoteProcedure } from '../../src/libvirt/protocol/procedures.js';
import { KEEPALIVE_PROGRAM, KeepaliveProcedure, RpcConnection } from '../../src/libvirt/rpc-connection.js';
import { XdrWriter } from '../../src/libvirt/xdr.js';

/**
 * The server end of a fake libvirt socket: records every packet the client writes, and lets the test push raw bytes
 * (replayed wire captures or hand-built packets) to the client, in chunks of its choosing.
 */
class FakeLibvirtStream extends Duplex {
  readonly sent: Packet[] = [];
  private readonly decoder = new PacketDecoder();
  private waiters: Array<() => void> = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sent.push(...this.decoder.push(chunk));
    for (const waiter of this.waiters.splice(0)) waiter();
    callback();
  }

  override _read(): void {}

  serverSends(bytes: Buffer): void {
    this.push(bytes);
  }

  serverEnds(): void {
    this.push(null);
  }

  /** Resolves once the client has written at least `count` packets. */
  async sentPackets(count: number): Promise<Packet[]> {
    while (this.sent.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.sent;
  }
}

const fixture = (name: string) => readFileSync(new URL(`../fixtures/libvirt-wire/${name}`, import.meta.url));

function reply(procedure: number, serial: number, body: Buffer, status: number = MessageStatus.ok): Buffer {
  return encodePacket(
    { program: REMOTE_PROGRAM, version: 1, procedure, type: MessageType.reply, serial, status },
    body,
  );
}

/** A fixture packet with its serial rewritten, so it answers the call the test made. */
function withSerial(packet: Buffer, serial: number): Buffer {
  const copy = Buffer.from(packet);
  copy.writeUInt32BE(serial, 20);
  return copy;
}

test('calls are framed with program, version, procedure, type call, increasing serials', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream);
  const calls = [
    connection.call(REMOTE_PROGRAM, RemoteProcedure.authList),
    connection.call(REMOTE_PROGRAM, RemoteProcedure.connectGetHostname, Buffer.from([0, 0, 0, 1])),
  ];
  const [first, second] = await stream.sentPackets(2);
  t.deepEqual(first?.header, {
    program: 0x20008086,
    version: 1,
    procedure: 66,
    type: 0,
    serial: 1,
    status: 0,
  });
  t.is(second?.header.serial, 2);
  t.deepEqual([...(second?.body ?? [])], [0, 0, 0, 1]);
  connection.close();
  for (const call of calls) await t.throwsAsync(call, { instanceOf: ConnectionClosedError });
});

test('two interleaved replies, split across odd chunk boundaries, reach the right callers', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream);
  const hostname = connection.call(REMOTE_PROGRAM, RemoteProcedure.connectGetHostname);
  const capabilities = connection.call(REMOTE_PROGRAM, RemoteProcedure.connectGetCapabilities);
  await stream.sentPackets(2);
  const bytes = Buffer.concat([
    reply(RemoteProcedure.connectGetCapabilities, 2, new XdrWriter().string('<capabilities/>').toBuffer()),
    reply(RemoteProcedure.connectGetHostname, 1, new XdrWriter().string('host-a').toBuffer()),
  ]);
  const cuts = [0, 3, 17, 41, bytes.length];
  for (let i = 0; i + 1 < cuts.length; i++) stream.serverSends(bytes.subarray(cuts[i], cuts[i + 1]));
  t.is((await hostname).subarray(4, 10).toString(), 'host-a');
  t.is((await capabilities).subarray(4, 19).toString(), '<capabilities/>');
  connection.close();
});

test('an error reply captured from libvirtd 9.0 becomes a typed LibvirtError', async (t) => {
  const stream = new FakeLibvirtStream();
  const client = new LibvirtClient(new RpcConnection(stream));
  const lookup = client.lookupDomainByName('no-such-domain');
  await stream.sentPackets(1);
  stream.serverSends(withSerial(fixture('error-no-domain.bin'), 1));
  const error = await t.throwsAsync(lookup, { instanceOf: LibvirtError });
  t.is(error?.code, 42);
  t.is(error?.domain, 10);
  t.is(error?.level, 2);
  t.is(error?.message, "Domain not found: no domain with matching name 'no-such-domain'");
  t.is(error?.str1, 'Domain not found: %s');
  t.is(error?.procedure, '20008086/23');
});

test('a list-all-domains reply captured from libvirtd decodes to domain refs', async (t) => {
  const stream = new FakeLibvirtStream();
  const client = new LibvirtClient(new RpcConnection(stream));
  const listing = client.listAllDomains();
  await stream.sentPackets(1);
  stream.serverSends(withSerial(fixture('list-all-domains-reply.bin'), 1));
  t.deepEqual(await listing, [{ name: 'fixture', uuid: '0b5c3f9e-1d2a-4b6c-8e7f-a1b2c3d4e5f6', id: -1 }]);
});

test('an event message (type 2) is dispatched to subscribers as a typed event', async (t) => {
  const stream = new FakeLibvirtStream();
  const client = new LibvirtClient(new RpcConnection(stream));
  const received = new Promise((resolve) => client.onEvent(resolve));
  const unsubscribed: unknown[] = [];
  client.onEvent((event) => unsubscribed.push(event))();
  stream.serverSends(fixture('event-lifecycle-undefined.bin'));
  t.deepEqual(await received, {
    kind: 'lifecycle',
    callbackId: 0,
    domain: { name: 'fixture', uuid: '0b5c3f9e-1d2a-4b6c-8e7f-a1b2c3d4e5f6', id: -1 },
    event: 1,
    detail: 0,
  });
  t.deepEqual(unsubscribed, []);
});

test('a keepalive PING is answered with a PONG', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream);
  stream.serverSends(
    encodePacket({
      program: KEEPALIVE_PROGRAM,
      version: 1,
      procedure: KeepaliveProcedure.ping,
      type: MessageType.message,
      serial: 0,
      status: 0,
    }),
  );
  const [pong] = await stream.sentPackets(1);
  t.deepEqual(pong?.header, {
    program: 0x6b656570,
    version: 1,
    procedure: 2,
    type: 2,
    serial: 0,
    status: 0,
  });
  t.is(pong?.body.length, 0);
  connection.close();
});

const KEEPALIVE_PONG = encodePacket({
  program: KEEPALIVE_PROGRAM,
  version: 1,
  procedure: KeepaliveProcedure.pong,
  type: MessageType.message,
  serial: 0,
  status: 0,
});

test('client keepalive pings a silent server, then fails the connection and its calls', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream, { keepalive: { intervalMs: 20, count: 3 } });
  // The keepalive timer is unref'd, as it must be in the CLI: hold the test process open until the verdict.
  const holdOpen = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(holdOpen));
  const closed = new Promise<Error | null>((resolve) => connection.onClose(resolve));
  const call = connection.call(REMOTE_PROGRAM, RemoteProcedure.connectGetHostname);
  await t.throwsAsync(call, { instanceOf: KeepaliveTimeoutError });
  t.true((await closed) instanceof KeepaliveTimeoutError);
  t.true(stream.sent.some((p) => p.header.program === KEEPALIVE_PROGRAM && p.header.procedure === 1));
  await t.throwsAsync(connection.call(REMOTE_PROGRAM, RemoteProcedure.connectGetHostname), {
    instanceOf: ConnectionClosedError,
  });
});

test('an answering server keeps the keepalive connection up', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream, { keepalive: { intervalMs: 20, count: 3 } });
  const timer = setInterval(() => stream.serverSends(KEEPALIVE_PONG), 15);
  await new Promise((resolve) => setTimeout(resolve, 150));
  clearInterval(timer);
  t.false(connection.closed);
  connection.close();
});

test('the stream ending rejects pending calls', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream);
  const call = connection.call(REMOTE_PROGRAM, RemoteProcedure.connectGetHostname);
  await stream.sentPackets(1);
  stream.serverEnds();
  await t.throwsAsync(call, { instanceOf: ConnectionClosedError, message: /ended/ });
});

test('a corrupt length word fails the connection', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream);
  const call = connection.call(REMOTE_PROGRAM, RemoteProcedure.connectGetHostname);
  stream.serverSends(Buffer.from([0, 0, 0, 5, 0, 0, 0, 0]));
  await t.throwsAsync(call, { instanceOf: ConnectionClosedError, message: /protocol error/ });
});

test('a keepalive timer that fires late (a busy event loop) pings before it gives up', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream, { keepalive: { intervalMs: 20, count: 3 } });
  const busyUntil = Date.now() + 150;
  while (Date.now() < busyUntil) {
    // The event loop is held past intervalMs * count, as a long synchronous computation would hold it.
  }
  const [ping] = await stream.sentPackets(1);
  t.is(ping?.header.procedure, KeepaliveProcedure.ping);
  t.false(connection.closed, 'not declared dead before a single ping was sent');
  stream.serverSends(KEEPALIVE_PONG);
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.false(connection.closed);
  connection.close();
});

/** A reboot event whose body stops inside the domain name: what a confused or hostile libvirtd could send. */
function truncatedRebootEvent(): Buffer {
  const body = new XdrWriter().int(0).int(64).toBuffer(); // callback id, then a name length with no name after it
  return encodePacket(
    {
      program: REMOTE_PROGRAM,
      version: 1,
      procedure: RemoteProcedure.domainEventCallbackReboot,
      type: MessageType.message,
      serial: 0,
      status: MessageStatus.ok,
    },
    body,
  );
}

test('a truncated event closes that connection with a ProtocolError; it does not throw out of the stream', async (t) => {
  const stream = new FakeLibvirtStream();
  const client = new LibvirtClient(new RpcConnection(stream));
  const closed = new Promise<Error | null>((resolve) => client.onClose(resolve));
  const call = client.connection.call(REMOTE_PROGRAM, RemoteProcedure.connectGetHostname);
  const events: unknown[] = [];
  client.onEvent((event) => events.push(event));
  // The stream's data handler runs synchronously in push(): before the guard, the XdrError surfaced right here.
  t.notThrows(() => stream.serverSends(truncatedRebootEvent()));
  const error = await closed;
  t.true(error instanceof ProtocolError);
  t.regex(error?.message ?? '', /protocol error: .*truncated/);
  await t.throwsAsync(call, { instanceOf: ProtocolError });
  t.deepEqual(events, []);
  t.true(stream.destroyed);
});

test('an event listener that throws closes the connection with a ProtocolError, and later bytes are ignored', async (t) => {
  const stream = new FakeLibvirtStream();
  const client = new LibvirtClient(new RpcConnection(stream));
  const closed = new Promise<Error | null>((resolve) => client.onClose(resolve));
  client.onEvent(() => {
    throw new TypeError('listener bug');
  });
  t.notThrows(() => stream.serverSends(fixture('event-lifecycle-undefined.bin')));
  const error = await closed;
  t.true(error instanceof ProtocolError);
  t.regex(error?.message ?? '', /listener bug/);
  t.true(client.connection.closed);
});

test('a close listener that throws does not keep the others from hearing of the close', async (t) => {
  const stream = new FakeLibvirtStream();
  const connection = new RpcConnection(stream);
  connection.onClose(() => {
    throw new Error('close listener bug');
  });
  const heard = new Promise<Error | null>((resolve) => connection.onClose(resolve));
  t.notThrows(() => stream.serverEnds());
  t.true((await heard) instanceof ConnectionClosedError);
});

test('packets split into 1-byte and uneven chunks, and several packets in one chunk, all come out whole', (t) => {
  const packets = [1, 2, 3].map((serial) =>
    encodePacket(
      { program: REMOTE_PROGRAM, version: 1, procedure: 1, type: 1, serial, status: 0 },
      Buffer.alloc(serial * 5, serial),
    ),
  );
  const wire = Buffer.concat(packets);
  for (const sizes of [[1], [3], [2, 7, 50], [wire.length]]) {
    const decoder = new PacketDecoder();
    const out: Packet[] = [];
    let at = 0;
    for (let i = 0; at < wire.length; i++) {
      const size = sizes[i % sizes.length] as number;
      out.push(...decoder.push(wire.subarray(at, at + size)));
      at += size;
    }
    t.deepEqual(
      out.map((p) => [p.header.serial, p.body.length]),
      [
        [1, 5],
        [2, 10],
        [3, 15],
      ],
      `chunk sizes ${sizes.join(',')}`,
    );
  }
});

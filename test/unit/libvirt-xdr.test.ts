import test from 'ava';
import { uuidFromBytes, uuidToBytes } from '../../src/libvirt/uuid.js';
import {
  readTypedParam,
  type TypedParam,
  toSafeNumber,
  writeTypedParam,
  XdrError,
  XdrReader,
  XdrWriter,
} from '../../src/libvirt/xdr.js';

const hex = (writer: XdrWriter) => writer.toBuffer().toString('hex');

test('int and uint: big-endian, negative numbers in two complement, ranges enforced', (t) => {
  t.is(hex(new XdrWriter().int(-2)), 'fffffffe');
  t.is(hex(new XdrWriter().uint(0xdeadbeef)), 'deadbeef');
  const reader = new XdrReader(
    new XdrWriter().int(-2_147_483_648).int(2_147_483_647).uint(4_294_967_295).toBuffer(),
  );
  t.deepEqual([reader.int(), reader.int(), reader.uint()], [-2_147_483_648, 2_147_483_647, 4_294_967_295]);
  t.throws(() => new XdrWriter().int(2_147_483_648), { instanceOf: XdrError });
  t.throws(() => new XdrWriter().uint(-1), { instanceOf: XdrError });
  t.throws(() => new XdrWriter().int(1.5), { instanceOf: XdrError });
});

test('hyper and unsigned hyper: bigint out, beyond 2^53 kept exact, unsafe numbers refused', (t) => {
  const big = (1n << 60n) + 1n;
  const buffer = new XdrWriter()
    .hyper(-5)
    .hyper(big)
    .uhyper((1n << 64n) - 1n)
    .uhyper(42)
    .toBuffer();
  t.is(buffer.toString('hex').slice(0, 16), 'fffffffffffffffb');
  const reader = new XdrReader(buffer);
  t.is(reader.hyper(), -5n);
  t.is(reader.hyper(), big);
  t.is(reader.uhyper(), (1n << 64n) - 1n);
  t.is(reader.uhyper(), 42n);
  t.throws(() => new XdrWriter().hyper(2 ** 53), { instanceOf: XdrError, message: /safe integer/ });
  t.throws(() => new XdrWriter().uhyper(-1n), { instanceOf: XdrError });
  t.throws(() => new XdrWriter().hyper(1n << 63n), { instanceOf: XdrError });
  t.is(toSafeNumber(123n), 123);
  t.throws(() => toSafeNumber(big), { instanceOf: XdrError });
});

test('bool and double', (t) => {
  const reader = new XdrReader(new XdrWriter().bool(true).bool(false).double(-0.125).toBuffer());
  t.true(reader.bool());
  t.false(reader.bool());
  t.is(reader.double(), -0.125);
  t.throws(() => new XdrReader(new XdrWriter().int(2).toBuffer()).bool(), { instanceOf: XdrError });
});

test('strings and opaque data are padded to 4 bytes with zeros', (t) => {
  for (const [value, expected] of [
    ['', '00000000'],
    ['a', '0000000161000000'],
    ['ab', '0000000261620000'],
    ['abc', '0000000361626300'],
    ['abcd', '0000000461626364'],
    ['abcde', '000000056162636465000000'],
  ] as const) {
    const buffer = new XdrWriter().string(value).toBuffer();
    t.is(buffer.toString('hex'), expected, value);
    t.is(new XdrReader(buffer).string(), value);
  }
  const utf8 = new XdrWriter().string('é✓').toBuffer();
  t.is(utf8.readUInt32BE(0), 5);
  t.is(new XdrReader(utf8).string(), 'é✓');

  const fixed = new XdrWriter()
    .opaqueFixed(Buffer.from([1, 2, 3]), 3)
    .uint(7)
    .toBuffer();
  t.is(fixed.toString('hex'), '0102030000000007');
  const reader = new XdrReader(fixed);
  t.deepEqual([...reader.opaqueFixed(3)], [1, 2, 3]);
  t.is(reader.uint(), 7);
  t.throws(() => new XdrWriter().opaqueFixed(Buffer.alloc(2), 3), { instanceOf: XdrError });

  const variable = new XdrWriter().opaqueVar(Buffer.from([9, 8, 7, 6, 5])).toBuffer();
  t.is(variable.length, 12);
  t.deepEqual([...new XdrReader(variable).opaqueVar()], [9, 8, 7, 6, 5]);
  t.throws(() => new XdrReader(variable).opaqueVar(4), { instanceOf: XdrError });
  t.throws(() => new XdrWriter().string('abc', 2), { instanceOf: XdrError });
});

test('optional data and arrays', (t) => {
  const buffer = new XdrWriter()
    .optional('here', (w, v) => w.string(v))
    .optional(null, (w, v: string) => w.string(v))
    .array([3, -4, 5], (w, v) => w.int(v))
    .array([], (w, v: number) => w.int(v))
    .toBuffer();
  const reader = new XdrReader(buffer);
  t.is(
    reader.optional((r) => r.string()),
    'here',
  );
  t.is(
    reader.optional((r) => r.string()),
    null,
  );
  t.deepEqual(
    reader.array((r) => r.int()),
    [3, -4, 5],
  );
  t.deepEqual(
    reader.array((r) => r.int()),
    [],
  );
  reader.end();
  t.throws(() => new XdrWriter().array([1, 2], (w, v) => w.int(v), 1), { instanceOf: XdrError });
  // a count larger than the data can hold is refused before any allocation
  t.throws(() => new XdrReader(new XdrWriter().uint(1_000_000).toBuffer()).array((r) => r.int()), {
    instanceOf: XdrError,
  });
});

test('the writer grows past its initial size without losing data', (t) => {
  const long = 'x'.repeat(1000);
  const reader = new XdrReader(new XdrWriter(8).int(-1).string(long).uint(7).hyper(-9n).toBuffer());
  t.is(reader.int(), -1);
  t.is(reader.string(), long);
  t.is(reader.uint(), 7);
  t.is(reader.hyper(), -9n);
  reader.end();
});

test('truncated data and trailing bytes are errors', (t) => {
  t.throws(() => new XdrReader(Buffer.from([0, 0, 1])).int(), { instanceOf: XdrError, message: /truncated/ });
  t.throws(() => new XdrReader(new XdrWriter().uint(8).uint(1).toBuffer()).string(), {
    instanceOf: XdrError,
  });
  const reader = new XdrReader(new XdrWriter().int(1).int(2).toBuffer());
  reader.int();
  t.throws(() => reader.end(), { instanceOf: XdrError, message: /trailing/ });
});

test('typed parameters: every union arm round-trips', (t) => {
  const params: TypedParam[] = [
    { field: 'i', type: 'int', value: -7 },
    { field: 'ui', type: 'uint', value: 4_000_000_000 },
    { field: 'l', type: 'llong', value: -(1n << 62n) },
    { field: 'bandwidth', type: 'ullong', value: (1n << 63n) + 5n },
    { field: 'd', type: 'double', value: 2.5 },
    { field: 'b', type: 'boolean', value: true },
    { field: 's', type: 'string', value: 'vda' },
  ];
  const writer = new XdrWriter();
  writer.array(params, writeTypedParam);
  const buffer = writer.toBuffer();
  // field "i" (4+4 bytes), discriminant 1, value -7
  t.is(
    buffer.subarray(4, 20).toString('hex'),
    `00000001${Buffer.from('i').toString('hex')}00000000000001fffffff9`,
  );
  const reader = new XdrReader(buffer);
  t.deepEqual(reader.array(readTypedParam), params);
  reader.end();
  const unknown = new XdrWriter().string('x').int(99).int(0).toBuffer();
  t.throws(() => readTypedParam(new XdrReader(unknown)), {
    instanceOf: XdrError,
    message: /unknown typed parameter/,
  });
});

test('UUIDs: string <-> 16 bytes', (t) => {
  const uuid = '0b5c3f9e-1d2a-4b6c-8e7f-a1b2c3d4e5f6';
  const bytes = uuidToBytes(uuid);
  t.is(bytes.length, 16);
  t.is(bytes[0], 0x0b);
  t.is(uuidFromBytes(bytes), uuid);
  t.is(uuidFromBytes(uuidToBytes(uuid.toUpperCase().replaceAll('-', ''))), uuid);
  t.throws(() => uuidToBytes('not-a-uuid'));
  t.throws(() => uuidFromBytes(Buffer.alloc(15)));
});

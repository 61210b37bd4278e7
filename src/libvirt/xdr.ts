/**
 * XDR (RFC 4506) encoder and decoder, as used by libvirt's RPC. Pure: no I/O.
 *
 * 64-bit integers (hyper, unsigned hyper) are decoded as bigint, always. Encoders accept a bigint, or a number that is
 * a safe integer; anything else throws, so no value is ever rounded silently.
 */

export class XdrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XdrError';
  }
}

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const UINT32_MAX = 0xffff_ffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

function padLength(length: number): number {
  return (4 - (length % 4)) % 4;
}

function toBigInt(value: bigint | number, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value))
    throw new XdrError(`${what}: ${value} is not a safe integer; pass a bigint`);
  return BigInt(value);
}

export class XdrWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialSize = 256) {
    this.buffer = Buffer.alloc(initialSize);
  }

  private reserve(bytes: number): number {
    const needed = this.length + bytes;
    if (needed > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    const at = this.length;
    this.length = needed;
    return at;
  }

  int(value: number): this {
    if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
      throw new XdrError(`int out of range: ${value}`);
    }
    const at = this.reserve(4);
    this.buffer.writeInt32BE(value, at);
    return this;
  }

  uint(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
      throw new XdrError(`unsigned int out of range: ${value}`);
    }
    const at = this.reserve(4);
    this.buffer.writeUInt32BE(value, at);
    return this;
  }

  hyper(value: bigint | number): this {
    const big = toBigInt(value, 'hyper');
    if (big < INT64_MIN || big > INT64_MAX) throw new XdrError(`hyper out of range: ${big}`);
    const at = this.reserve(8);
    this.buffer.writeBigInt64BE(big, at);
    return this;
  }

  uhyper(value: bigint | number): this {
    const big = toBigInt(value, 'unsigned hyper');
    if (big < 0n || big > UINT64_MAX) throw new XdrError(`unsigned hyper out of range: ${big}`);
    const at = this.reserve(8);
    this.buffer.writeBigUInt64BE(big, at);
    return this;
  }

  double(value: number): this {
    const at = this.reserve(8);
    this.buffer.writeDoubleBE(value, at);
    return this;
  }

  bool(value: boolean): this {
    return this.int(value ? 1 : 0);
  }

  /** Fixed-length opaque: exactly `length` bytes, then padding to a multiple of 4. */
  opaqueFixed(data: Uint8Array, length: number): this {
    if (data.length !== length) throw new XdrError(`fixed opaque needs ${length} bytes, got ${data.length}`);
    const at = this.reserve(length + padLength(length));
    this.buffer.set(data, at);
    this.buffer.fill(0, at + length, at + length + padLength(length));
    return this;
  }

  /** Variable-length opaque: a uint length, the bytes, then padding. */
  opaqueVar(data: Uint8Array, maxLength = UINT32_MAX): this {
    if (data.length > maxLength) throw new XdrError(`opaque longer than ${maxLength}: ${data.length}`);
    this.uint(data.length);
    return this.opaqueFixed(data, data.length);
  }

  string(value: string, maxLength = UINT32_MAX): this {
    return this.opaqueVar(Buffer.from(value, 'utf8'), maxLength);
  }

  /** XDR optional-data (`type *name`): a bool, then the value when present. */
  optional<T>(value: T | null | undefined, encode: (writer: this, item: T) => void): this {
    if (value === null || value === undefined) return this.bool(false);
    this.bool(true);
    encode(this, value);
    return this;
  }

  /** Variable-length array: a uint count, then each item. */
  array<T>(items: readonly T[], encode: (writer: this, item: T) => void, maxLength = UINT32_MAX): this {
    if (items.length > maxLength) throw new XdrError(`array longer than ${maxLength}: ${items.length}`);
    this.uint(items.length);
    for (const item of items) encode(this, item);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}

export class XdrReader {
  private offset: number;

  constructor(
    private readonly buffer: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  private take(bytes: number): number {
    if (bytes > this.remaining) {
      throw new XdrError(
        `truncated XDR data: need ${bytes} bytes at offset ${this.offset}, have ${this.remaining}`,
      );
    }
    const at = this.offset;
    this.offset += bytes;
    return at;
  }

  int(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  uint(): number {
    return this.buffer.readUInt32BE(this.take(4));
  }

  hyper(): bigint {
    return this.buffer.readBigInt64BE(this.take(8));
  }

  uhyper(): bigint {
    return this.buffer.readBigUInt64BE(this.take(8));
  }

  double(): number {
    return this.buffer.readDoubleBE(this.take(8));
  }

  bool(): boolean {
    const value = this.int();
    if (value !== 0 && value !== 1) throw new XdrError(`invalid XDR bool: ${value}`);
    return value === 1;
  }

  opaqueFixed(length: number): Buffer {
    const at = this.take(length + padLength(length));
    return Buffer.from(this.buffer.subarray(at, at + length));
  }

  opaqueVar(maxLength = UINT32_MAX): Buffer {
    const length = this.uint();
    if (length > maxLength) throw new XdrError(`opaque longer than ${maxLength}: ${length}`);
    return this.opaqueFixed(length);
  }

  string(maxLength = UINT32_MAX): string {
    return this.opaqueVar(maxLength).toString('utf8');
  }

  optional<T>(decode: (reader: this) => T): T | null {
    return this.bool() ? decode(this) : null;
  }

  array<T>(decode: (reader: this) => T, maxLength = UINT32_MAX): T[] {
    const count = this.uint();
    if (count > maxLength) throw new XdrError(`array longer than ${maxLength}: ${count}`);
    // Each item takes at least 4 bytes: refuse counts the data cannot hold before allocating.
    if (count > this.remaining / 4) throw new XdrError(`array count ${count} exceeds the remaining data`);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(decode(this));
    return items;
  }

  /** Throws when bytes are left over: a struct shape that does not match the wire. */
  end(): void {
    if (this.remaining !== 0) throw new XdrError(`${this.remaining} unexpected trailing bytes`);
  }
}

/** Converts a decoded 64-bit value to a number, refusing values a number cannot hold exactly. */
export function toSafeNumber(value: bigint, what = 'value'): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new XdrError(`${what} ${value} does not fit in a JavaScript number`);
  }
  return Number(value);
}

/** libvirt's `remote_typed_param_value` union discriminants (VIR_TYPED_PARAM_*). */
export const TypedParamType = {
  int: 1,
  uint: 2,
  llong: 3,
  ullong: 4,
  double: 5,
  boolean: 6,
  string: 7,
} as const;

export type TypedParamValue =
  | { type: 'int'; value: number }
  | { type: 'uint'; value: number }
  | { type: 'llong'; value: bigint }
  | { type: 'ullong'; value: bigint }
  | { type: 'double'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'string'; value: string };

export type TypedParam = { field: string } & TypedParamValue;

export function writeTypedParam(writer: XdrWriter, param: TypedParam): void {
  writer.string(param.field);
  writer.int(TypedParamType[param.type]);
  switch (param.type) {
    case 'int':
      writer.int(param.value);
      break;
    case 'uint':
      writer.uint(param.value);
      break;
    case 'llong':
      writer.hyper(param.value);
      break;
    case 'ullong':
      writer.uhyper(param.value);
      break;
    case 'double':
      writer.double(param.value);
      break;
    case 'boolean':
      writer.bool(param.value);
      break;
    case 'string':
      writer.string(param.value);
      break;
  }
}

export function readTypedParam(reader: XdrReader): TypedParam {
  const field = reader.string();
  const discriminant = reader.int();
  switch (discriminant) {
    case TypedParamType.int:
      return { field, type: 'int', value: reader.int() };
    case TypedParamType.uint:
      return { field, type: 'uint', value: reader.uint() };
    case TypedParamType.llong:
      return { field, type: 'llong', value: reader.hyper() };
    case TypedParamType.ullong:
      return { field, type: 'ullong', value: reader.uhyper() };
    case TypedParamType.double:
      return { field, type: 'double', value: reader.double() };
    case TypedParamType.boolean:
      // libvirt encodes booleans as a plain int; any non-zero is true.
      return { field, type: 'boolean', value: reader.int() !== 0 };
    case TypedParamType.string:
      return { field, type: 'string', value: reader.string() };
    default:
      throw new XdrError(`unknown typed parameter type ${discriminant} for field ${field}`);
  }
}

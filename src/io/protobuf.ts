// Protocol Buffers wire format, writing side only, for the few scalar kinds a schema encoder needs
// (https://protobuf.dev/programming-guides/encoding/). Each call appends one field: its key
// (field number << 3 | wire type), then the value. Repeated fields are written one key per element
// (proto2's unpacked form, which every parser accepts). Integers must be safe JavaScript integers:
// a RangeError names the field otherwise.

const VARINT = 0;
const I32 = 5;
const LEN = 2;

const utf8 = new TextEncoder();

export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  /** int64, uint64 or int32 (and enums): a varint; negatives take ten bytes (two's complement, as protobuf does). */
  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf field ${field}: ${value} is not a safe integer`);
    this.key(field, VARINT);
    if (value >= 0) this.varint(value);
    else this.varint64(BigInt.asUintN(64, BigInt(value)));
    return this;
  }

  /** float: four bytes, little-endian. */
  float(field: number, value: number): this {
    this.key(field, I32);
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.len, value, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, LEN);
    this.varint(value.length);
    this.reserve(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** An embedded message, written by `write` into a writer of its own. */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  private varint(value: number): void {
    this.reserve(10);
    while (value >= 0x80) {
      this.buf[this.len++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.len++] = value;
  }

  private varint64(value: bigint): void {
    this.reserve(10);
    while (value >= 0x80n) {
      this.buf[this.len++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buf[this.len++] = Number(value);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(2 * this.buf.length, this.len + n));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
}

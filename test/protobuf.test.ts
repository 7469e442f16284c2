// The protobuf writer against encodings worked out by hand from the wire-format specification.
import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../src/io/protobuf.js';

const bytes = (w: ProtoWriter) => [...w.finish()];

describe('ProtoWriter', () => {
  it('writes varints with their keys', () => {
    expect(bytes(new ProtoWriter().int(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes(new ProtoWriter().int(2, 0))).toEqual([0x10, 0x00]);
    // Field 20 needs a two-byte key: (20 << 3 | 0) = 160.
    expect(bytes(new ProtoWriter().int(20, 2))).toEqual([0xa0, 0x01, 0x02]);
    expect(bytes(new ProtoWriter().int(1, 2 ** 53 - 1))).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it("writes a negative integer as ten bytes of two's complement", () => {
    expect(bytes(new ProtoWriter().int(3, -1))).toEqual([0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(bytes(new ProtoWriter().int(3, -2))).toEqual([0x18, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it('refuses what is not a safe integer, naming the field', () => {
    expect(() => new ProtoWriter().int(7, 1.5)).toThrow('protobuf field 7: 1.5 is not a safe integer');
    expect(() => new ProtoWriter().int(7, 2 ** 53)).toThrow(RangeError);
  });

  it('writes floats as four little-endian bytes', () => {
    expect(bytes(new ProtoWriter().float(2, 1))).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    expect(bytes(new ProtoWriter().float(2, -0.5))).toEqual([0x15, 0x00, 0x00, 0x00, 0xbf]);
  });

  it('writes strings as UTF-8 with their length, and nested messages the same way', () => {
    expect(bytes(new ProtoWriter().string(2, 'testing'))).toEqual([0x12, 0x07, ...Buffer.from('testing')]);
    expect(bytes(new ProtoWriter().string(1, 'µ'))).toEqual([0x0a, 0x02, 0xc2, 0xb5]);
    expect(bytes(new ProtoWriter().message(3, (m) => m.int(1, 150)))).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
  });

  it('grows past its first buffer without losing bytes', () => {
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const out = new ProtoWriter().int(1, 1).bytes(9, payload).int(2, 2).finish();
    expect([...out.subarray(0, 5)]).toEqual([0x08, 0x01, 0x4a, 0xe8, 0x07]);
    expect(out.subarray(5, 1005)).toEqual(payload);
    expect([...out.subarray(1005)]).toEqual([0x10, 0x02]);
  });
});

// adviseHugePages: advice only, so the values stay; a clear error for anything but a typed array.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedBytes, sharedFloats } from '../src/util/shared-memory.js';
import { native } from '../src/native.js';

const MIB = 1 << 20;
// Linux with transparent huge pages compiled in accepts the advice, whatever the current mode.
const thp = process.platform === 'linux' && existsSync('/sys/kernel/mm/transparent_hugepage/enabled');

describe('adviseHugePages', () => {
  it('advises a buffer that holds an aligned 2 MiB page, and leaves its values as they were', () => {
    const x = new Float32Array(new SharedArrayBuffer(6 * MIB)).map((_, i) => i);
    expect(native.adviseHugePages(x)).toBe(thp);
    expect(x.every((v, i) => v === i)).toBe(true);
    expect(native.adviseHugePages(new Uint8Array(new ArrayBuffer(6 * MIB)))).toBe(thp);
  });

  it('gives no advice for a buffer too small to hold an aligned 2 MiB page', () => {
    expect(native.adviseHugePages(new Float32Array(1000))).toBe(false);
    expect(native.adviseHugePages(new Uint8Array(0))).toBe(false);
  });

  it('works on the bytes a view spans, not on its whole buffer', () => {
    const whole = new Uint8Array(new ArrayBuffer(8 * MIB));
    expect(native.adviseHugePages(whole.subarray(0, 100))).toBe(false);
    expect(native.adviseHugePages(new Float64Array(whole.buffer, 8, 3))).toBe(false);
  });

  it('rejects anything but a typed array, naming the argument', () => {
    for (const bad of [new DataView(new ArrayBuffer(8)), new ArrayBuffer(8), [1, 2], null, undefined, 3])
      expect(() => native.adviseHugePages(bad as never)).toThrow(/adviseHugePages: argument 'x' must be a typed array/);
    expect(() => (native.adviseHugePages as (...a: unknown[]) => boolean)(new Uint8Array(8), 1)).toThrow(TypeError);
  });

  it('leaves the large shared slabs, which it advises, zeroed and whole', () => {
    const bytes = sharedBytes(5 * MIB + 3);
    const floats = sharedFloats(3 * MIB);
    expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(bytes.every((v) => v === 0) && floats.every((v) => v === 0)).toBe(true);
    expect([bytes.length, floats.length]).toEqual([5 * MIB + 3, 3 * MIB]);
  });
});

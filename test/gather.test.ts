import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { Rng, expectClose } from './reference.js';

function dataset(images: number, width: number, seed: number) {
  const rng = new Rng(seed);
  return {
    pixels: Uint8Array.from({ length: images * width }, () => rng.int(256)),
    labels: Uint8Array.from({ length: images }, () => rng.int(10)),
    indices: Int32Array.from({ length: 3 * images }, () => rng.int(images)),
    mean: rng.floats(width, 0, 0.5),
    invStd: rng.floats(width, 1, 4),
  };
}

describe('gatherRows', () => {
  it.each([
    [1, 1],
    [5, 7],
    [20, 33],
    [50, 784],
  ])('matches the reference with and without normalization, %i images of width %i', (images, width) => {
    const d = dataset(images, width, images + width);
    const start = 3,
      count = Math.min(2 * images, d.indices.length - start);
    const scale = 1 / 255;
    for (const [mean, invStd] of [
      [d.mean, d.invStd],
      [null, null],
      [d.mean, undefined],
      [undefined, d.invStd],
    ] as const) {
      const out = new Float32Array(count * width);
      native.gatherRows(d.pixels, width, d.indices, start, count, out, scale, mean, invStd);
      const expected = Array.from(out, (_, k) => {
        const r = Math.floor(k / width),
          j = k % width;
        const v = d.pixels[d.indices[start + r] * width + j];
        return (v * scale - (mean ? mean[j] : 0)) * (invStd ? invStd[j] : 1);
      });
      expectClose(out, expected, 1e-6, 1e-6); // float32 rounding of v·scale before the subtraction
    }
  });

  it('accepts the optional arguments left out entirely, and count = 0', () => {
    const d = dataset(4, 3, 1);
    const out = new Float32Array(6);
    native.gatherRows(d.pixels, 3, Int32Array.of(3, 0), 0, 2, out, 2);
    expect(Array.from(out)).toEqual([...d.pixels.subarray(9, 12), ...d.pixels.subarray(0, 3)].map((v) => 2 * v));
    native.gatherRows(d.pixels, 3, Int32Array.of(), 0, 0, new Float32Array(0), 1);
  });

  it('throws a RangeError naming the position and value of an index outside the images', () => {
    const d = dataset(4, 3, 2);
    const out = new Float32Array(9);
    expect(() => native.gatherRows(d.pixels, 3, Int32Array.of(0, 1, 2, 4), 1, 3, out, 1)).toThrow(
      new RangeError('gatherRows: indices[3] = 4 is outside the 4 images'),
    );
    expect(() => native.gatherRows(d.pixels, 3, Int32Array.of(0, -1), 0, 2, out, 1)).toThrow(/indices\[1\] = -1/);
    // A trailing partial image is not an image.
    expect(() => native.gatherRows(d.pixels.subarray(0, 11), 3, Int32Array.of(3), 0, 1, out, 1)).toThrow(/indices\[0\] = 3 is outside the 3 images/);
  });
});

describe('gatherLabels', () => {
  it('matches the reference', () => {
    const d = dataset(30, 1, 3);
    const out = new Int32Array(40);
    native.gatherLabels(d.labels, d.indices, 7, 40, out);
    expect(Array.from(out)).toEqual(Array.from({ length: 40 }, (_, r) => d.labels[d.indices[7 + r]]));
  });

  it('throws a RangeError naming the position and value of an index outside the labels', () => {
    expect(() => native.gatherLabels(Uint8Array.of(1, 2), Int32Array.of(1, 2), 0, 2, new Int32Array(2))).toThrow(
      new RangeError('gatherLabels: indices[1] = 2 is outside the 2 labels'),
    );
  });
});

describe('prefetchRows', () => {
  it('is a hint: it writes nothing, skips indices outside the images, and a gather after it is unchanged', () => {
    const d = dataset(20, 33, 4);
    const before = d.pixels.slice();
    const out = new Float32Array(10 * 33);
    native.gatherRows(d.pixels, 33, d.indices, 5, 10, out, 1);
    native.prefetchRows(d.pixels, 33, d.indices, 5, 10);
    native.prefetchRows(d.pixels, 33, Int32Array.of(-1, 20, 2 ** 31 - 1, 3), 0, 4);
    native.prefetchRows(d.pixels, 33, Int32Array.of(), 0, 0);
    expect(d.pixels).toEqual(before);
    const again = new Float32Array(10 * 33);
    native.gatherRows(d.pixels, 33, d.indices, 5, 10, again, 1);
    expect(again).toEqual(out);
  });

  it('checks its arguments like gatherRows, naming the one that is wrong', () => {
    const d = dataset(4, 3, 5);
    const prefetch = native.prefetchRows as (...a: unknown[]) => void;
    expect(() => prefetch(d.pixels, 0, d.indices, 0, 1)).toThrow(new RangeError("prefetchRows: argument 'width' must be at least 1"));
    expect(() => prefetch(d.pixels, 3, d.indices, 10, 3)).toThrow(/^prefetchRows: argument 'indices' has 12 elements but needs 13/);
    expect(() => prefetch(Array.from(d.pixels), 3, d.indices, 0, 1)).toThrow(/^prefetchRows: argument 'images' must be a Uint8Array/);
    expect(() => prefetch(d.pixels, 3, Float64Array.of(1), 0, 1)).toThrow(/^prefetchRows: argument 'indices' must be a Int32Array/);
    expect(() => prefetch(d.pixels, 3, d.indices, -1, 1)).toThrow(RangeError);
    expect(() => prefetch(d.pixels, 3, d.indices, 0)).toThrow(/^prefetchRows: expected 5 arguments, got 4/);
  });
});

describe('gather of float features and wide labels', () => {
  it('gathers float32 rows with the same normalization as bytes, and refuses other feature types', () => {
    const d = dataset(20, 33, 9);
    const floats = Float32Array.from(d.pixels, (v) => v * 1.5 - 100);
    const out = new Float32Array(10 * 33);
    native.gatherRows(floats, 33, d.indices, 2, 10, out, 0.5, d.mean, d.invStd);
    const expected = Array.from(out, (_, k) => {
      const r = Math.floor(k / 33),
        j = k % 33;
      return (floats[d.indices[2 + r] * 33 + j] * 0.5 - d.mean[j]) * d.invStd[j];
    });
    expectClose(out, expected, 1e-6, 1e-6);
    expect(() => native.gatherRows(floats.subarray(0, 33 * 4), 33, Int32Array.of(4), 0, 1, out, 1)).toThrow(/indices\[0\] = 4 is outside the 4 images/);
    expect(() => native.gatherRows(new Float64Array(33) as never, 33, Int32Array.of(0), 0, 1, out, 1)).toThrow(/'images' must be a Uint8Array/);
    native.prefetchRows(floats, 33, d.indices, 0, 10); // a hint: any index, no effect on values
  });

  it('gathers uint16 and int32 labels beyond 255', () => {
    const indices = Int32Array.of(2, 0, 1);
    for (const labels of [Uint16Array.of(300, 65535, 7), Int32Array.of(300, 1 << 20, 7)]) {
      const out = new Int32Array(3);
      native.gatherLabels(labels, indices, 0, 3, out);
      expect(Array.from(out)).toEqual([7, labels[0], labels[1]]);
      expect(() => native.gatherLabels(labels, Int32Array.of(3), 0, 1, out)).toThrow(/indices\[0\] = 3 is outside the 3 labels/);
    }
  });
});

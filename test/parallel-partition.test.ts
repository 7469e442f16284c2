// The split of a batch into shards and of the parameters into slices, checked exhaustively over
// small sizes against what the engine relies on.
import { describe, expect, it } from 'vitest';
import { activeWorkers, shardCapacity, shardStart, sliceStart } from '../src/train/parallel/partition.js';

describe('shards of a batch', () => {
  it('cover the batch in order, differ by at most one row, and never hold fewer than minRows', () => {
    for (const minRows of [1, 2])
      for (let workers = 1; workers <= 6; workers++)
        for (let count = minRows; count <= 40; count++) {
          const active = activeWorkers(count, workers, minRows);
          const sizes = Array.from({ length: workers }, (_, w) => shardStart(count, active, w + 1) - shardStart(count, active, w));
          expect(shardStart(count, active, 0)).toBe(0);
          expect(sizes.reduce((a, b) => a + b, 0)).toBe(count);
          const used = sizes.slice(0, active);
          expect(sizes.slice(active).every((n) => n === 0)).toBe(true);
          expect(Math.min(...used)).toBeGreaterThanOrEqual(minRows);
          expect(Math.max(...used) - Math.min(...used)).toBeLessThanOrEqual(1);
          // As many workers as the rows allow.
          expect(active === workers || Math.floor(count / (active + 1)) < minRows).toBe(true);
          expect(Math.max(...used)).toBeLessThanOrEqual(shardCapacity(40, workers, minRows));
        }
  });

  it('one row per worker when the batch is smaller than the pool (no BatchNorm)', () => {
    expect(activeWorkers(3, 4, 1)).toBe(3);
    expect([0, 1, 2, 3, 4].map((w) => shardStart(3, 3, w))).toEqual([0, 1, 2, 3, 3]);
  });
});

describe('slices of the parameters', () => {
  it('cover the vector in order, start on 16-float boundaries and are nearly equal', () => {
    for (const n of [1, 15, 16, 17, 100, 101632, 1863690])
      for (let parts = 1; parts <= 8; parts++) {
        const starts = Array.from({ length: parts + 1 }, (_, w) => sliceStart(n, parts, w));
        expect(starts[0]).toBe(0);
        expect(starts[parts]).toBe(n);
        for (let w = 0; w < parts; w++) {
          expect(starts[w + 1]).toBeGreaterThanOrEqual(starts[w]);
          if (starts[w] < n) expect(starts[w] % 16).toBe(0);
          expect(starts[w + 1] - starts[w]).toBeLessThanOrEqual(Math.ceil(n / parts) + 16);
        }
      }
  });
});

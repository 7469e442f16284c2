// The split of a batch into shards and of the parameters into slices, checked exhaustively over
// small sizes against what the engine relies on.
import { describe, expect, it } from 'vitest';
import { layoutOf } from '../src/nn/layout.js';
import { resolveSpec } from '../src/nn/spec.js';
import { Shard, activeWorkers, shardCapacity, shardStart, sliceBounds, slicePieces } from '../src/train/parallel/partition.js';

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

  it("are what each worker's Shard cuts, batch after batch", () => {
    for (const minRows of [1, 2])
      for (let workers = 1; workers <= 5; workers++) {
        const shards = Array.from({ length: workers }, (_, w) => new Shard(workers, w, minRows));
        for (const count of [minRows, 7, 40, 3, 64]) {
          const active = activeWorkers(count, workers, minRows);
          shards.forEach((shard, w) => {
            expect(shard.of(count)).toBe(active);
            expect([shard.begin, shard.begin + shard.rows]).toEqual([shardStart(count, active, w), shardStart(count, active, w + 1)]);
          });
        }
      }
  });

  it('one row per worker when the batch is smaller than the pool (no BatchNorm)', () => {
    expect(activeWorkers(3, 4, 1)).toBe(3);
    expect([0, 1, 2, 3, 4].map((w) => shardStart(3, 3, w))).toEqual([0, 1, 2, 3, 3]);
  });
});

describe('slices of the parameters', () => {
  const layouts = [
    [784, 128, 10],
    [784, 1024, 1024, 10],
    [5, 3, 2],
    [20, 40, 40, 3],
  ].flatMap((layers) => (['none', 'batch'] as const).map((norm) => layoutOf(resolveSpec({ layers, norm }))));

  it('cover the vector in order, nearly equal, cut on 16 floats or, in a weight matrix, on a group of rows', () => {
    for (const layout of layouts)
      for (const rowGroup of [8, 16, 32])
        for (let parts = 1; parts <= 8; parts++) {
          const n = layout.paramCount;
          const bounds = sliceBounds(layout, parts, rowGroup);
          const widest = Math.max(...layout.layers.map((l) => l.inputs));
          expect(bounds).toHaveLength(parts + 1);
          expect([bounds[0], bounds[parts]]).toEqual([0, n]);
          for (let w = 0; w < parts; w++) {
            expect(bounds[w + 1]).toBeGreaterThanOrEqual(bounds[w]);
            expect(bounds[w + 1] - bounds[w]).toBeLessThanOrEqual(Math.ceil(n / parts) + 16 + rowGroup * widest);
          }
          for (const cut of bounds.slice(1, -1)) {
            const matrix = layout.layers.find((l) => cut > l.weight.offset && cut < l.weight.offset + l.weight.size);
            if (matrix) expect((cut - matrix.weight.offset) % (rowGroup * matrix.inputs)).toBe(0);
            else if (!layout.layers.some((l) => cut === l.weight.offset || cut === l.weight.offset + l.weight.size)) expect(cut % 16).toBe(0);
          }
        }
  });

  it('cut into pieces that tile the slice and give every weight row to one piece, in groups that packB accepts', () => {
    for (const layout of layouts)
      for (const rowGroup of [8, 16])
        for (const target of [1, 100, 4096])
          for (let parts = 1; parts <= 8; parts++) {
            const bounds = sliceBounds(layout, parts, rowGroup);
            const packed = layout.layers.map(() => 0);
            for (let w = 0; w < parts; w++) {
              let at = bounds[w];
              for (const p of slicePieces(layout, bounds[w], bounds[w + 1], rowGroup, target)) {
                expect(p.begin).toBe(at);
                expect(p.end).toBeGreaterThan(p.begin);
                at = p.end;
                // After its rows (if any), no weights.
                expect(layout.layers.some(({ weight }) => p.end > p.weightEnd && p.weightEnd < weight.offset + weight.size && p.end > weight.offset)).toBe(
                  false,
                );
                if (p.layer < 0) {
                  expect(p.weightEnd).toBe(p.begin);
                  continue;
                }
                const { weight, inputs, outputs } = layout.layers[p.layer];
                // Whole rows of one matrix, starting where the last piece of that matrix stopped.
                expect([p.begin, p.weightEnd]).toEqual([weight.offset + p.row0 * inputs, weight.offset + p.row1 * inputs]);
                expect(p.end === p.weightEnd || p.row1 === outputs).toBe(true);
                expect(p.row0).toBe(packed[p.layer]);
                expect(p.row0 % rowGroup).toBe(0);
                expect(p.row1 % rowGroup === 0 || p.row1 === outputs).toBe(true);
                expect(p.weightEnd - p.begin <= Math.max(target, rowGroup * inputs)).toBe(true);
                packed[p.layer] = p.row1;
              }
              expect(at).toBe(bounds[w + 1]);
            }
            expect(packed).toEqual(layout.layers.map((l) => l.outputs));
          }
  });
});

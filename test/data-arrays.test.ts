// Data sets from arrays in memory: each kind of x and y, and each bad input refused with its row and column.
import { describe, expect, it } from 'vitest';
import { Dataset } from '../src/data/dataset.js';

describe('Dataset.fromArrays', () => {
  it('takes number[][] rows with class indices, as float features and the smallest label type', () => {
    const ds = Dataset.fromArrays({
      x: [
        [1.5, -2],
        [3, 4e6],
        [0, 0.25],
      ],
      y: [2, 0, 1],
    });
    expect(ds.images).toBeInstanceOf(Float32Array);
    expect(Array.from(ds.images)).toEqual([1.5, -2, 3, 4e6, 0, 0.25]);
    expect(ds.task).toBe('classification');
    expect(ds.labels).toBeInstanceOf(Uint8Array);
    expect(Array.from(ds.labels!)).toEqual([2, 0, 1]);
    expect(ds.classes).toBe(3);
    expect(ds.images.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('stores up to 65536 classes as uint16 and more as int32', () => {
    const x = [[0], [1]];
    const wide = Dataset.fromArrays({ x, y: [0, 65535] });
    expect(wide.labels).toBeInstanceOf(Uint16Array);
    expect(wide.classes).toBe(65536);
    const wider = Dataset.fromArrays({ x, y: [70000, 3] });
    expect(wider.labels).toBeInstanceOf(Int32Array);
    expect(Array.from(wider.labels!)).toEqual([70000, 3]);
  });

  it('maps class names to indices in sorted order and keeps the names', () => {
    const ds = Dataset.fromArrays({ x: [[1], [2], [3], [4]], y: ['versicolor', 'setosa', 'virginica', 'setosa'] });
    expect(ds.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(Array.from(ds.labels!)).toEqual([1, 0, 2, 0]);
  });

  it('takes a flat Float32Array with a width, numbers as regression values and rows as several outputs', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    const one = Dataset.fromArrays({ x, width: 3, y: [0.5, 151.25] });
    expect(one.count).toBe(2);
    expect(one.task).toBe('regression');
    expect(Array.from(one.targets!)).toEqual([0.5, 151.25]);
    const two = Dataset.fromArrays({
      x,
      width: 2,
      y: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
    });
    expect(two.classes).toBe(2);
    expect(Array.from(two.targets!)).toEqual([1, 2, 3, 4, 5, 6]);
    const integers = Dataset.fromArrays({ x, width: 3, y: [1, 7], task: 'regression' });
    expect(integers.task).toBe('regression');
    const labels = Dataset.fromArrays({
      x,
      width: 3,
      y: [
        [1, 0, 1],
        [0, 0, 1],
      ],
      task: 'multilabel',
    });
    expect(labels.task).toBe('multilabel');
  });

  it('gathers float features under a normalization and float targets under a target normalization', () => {
    const ds = Dataset.fromArrays({
      x: [
        [10, 20],
        [30, 40],
      ],
      y: [100, 300],
      task: 'regression',
    })
      .withNormalization({ scale: 1, mean: Float32Array.of(20, 30), invStd: Float32Array.of(0.1, 0.1) })
      .withTargetNormalization({ scale: 1, mean: Float32Array.of(200), invStd: Float32Array.of(0.01) });
    const x = new Float32Array(4);
    const y = new Float32Array(2);
    ds.gather(Int32Array.of(1, 0), 0, 2, x, y);
    expect(Array.from(x)).toEqual([1, 1, -1, -1]);
    expect(Array.from(y)).toEqual([1, -1]);
    expect(() => ds.gather(Int32Array.of(0), 0, 1, x, new Int32Array(1))).toThrow(/float targets .*not the class labels/);
  });

  it('refuses bad input naming the row and column', () => {
    expect(() => Dataset.fromArrays({ x: [[1, 2], [3]], y: [0, 1] })).toThrow('arrays: x row 1 has 1 values, expected 2 (as row 0)');
    expect(() =>
      Dataset.fromArrays({
        x: [
          [1, 2],
          [3, NaN],
        ],
        y: [0, 1],
      }),
    ).toThrow('arrays: x row 1 column 1 is NaN, not a finite number');
    expect(() =>
      Dataset.fromArrays({
        x: [
          [1, 2],
          [3, '4' as unknown as number],
        ],
      }),
    ).toThrow('x row 1 column 1 is 4, not a finite number');
    expect(() => Dataset.fromArrays({ x: Float32Array.of(1, 2, Infinity, 4), width: 2 })).toThrow('x row 1 column 0 is Infinity');
    expect(() => Dataset.fromArrays({ x: Float32Array.of(1, 2, 3), width: 2 })).toThrow('x has 3 values, not a whole number of rows of width 2');
    expect(() => Dataset.fromArrays({ x: Float32Array.of(1, 2) })).toThrow('a flat Float32Array x needs width');
    expect(() => Dataset.fromArrays({ x: [[1], [2]], y: [0] })).toThrow('arrays: y has 1 rows but x has 2');
    expect(() => Dataset.fromArrays({ x: [[1], [2]], y: [0, NaN] })).toThrow('y row 1 is NaN, not a finite number');
    expect(() => Dataset.fromArrays({ x: [[1], [2]], y: [[1, 2], [3]] })).toThrow('y row 1 has 1 values, expected 2 (as row 0)');
    expect(() =>
      Dataset.fromArrays({
        x: [[1], [2]],
        y: [
          [1, 2],
          [3, NaN],
        ],
      }),
    ).toThrow('y row 1 column 1 is NaN, not a finite number');
    expect(() =>
      Dataset.fromArrays({
        x: [[1], [2]],
        y: [
          [1, 0],
          [0.5, 1],
        ],
        task: 'multilabel',
      }),
    ).toThrow('y row 1 column 0 is 0.5; multi-label targets are 0 or 1');
    expect(() => Dataset.fromArrays({ x: [[1], [2]], y: [1.5, 1], task: 'classification' })).toThrow('y row 0 is 1.5: class indices are integers');
    expect(() => Dataset.fromArrays({ x: [[1], [2]], y: [0, 3], classes: 3 })).toThrow('y row 1 is class 3, outside the 3 classes given');
    expect(() => Dataset.fromArrays({ x: [[1], [2]], y: ['a', ''] })).toThrow('y row 1 is "", expected a class name');
    expect(() => Dataset.fromArrays({ x: [[1], [2]], y: [[1], [2]], task: 'classification' })).toThrow('not task classification');
    expect(() => Dataset.fromArrays({ x: [], y: [] })).toThrow('x has no rows');
    expect(() => Dataset.fromArrays({ x: [[1], [2]], y: [0, 1], source: 'readings' })).not.toThrow();
    expect(() => Dataset.fromArrays({ x: [[1], [Infinity]], source: 'readings' })).toThrow('readings: x row 1 column 0');
  });
});

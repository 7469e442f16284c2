import { beforeAll, describe, expect, it } from 'vitest';
import { Dataset, loadMnist, splitDataset, takeFirst } from '../src/data/index.js';
import { patternBytes } from './data-fixtures.js';

/** Sample i stores i in its first three pixels, so a split's membership can be read back. */
function numbered(count: number, classes: number): Dataset {
  const width = 4;
  const images = new Uint8Array(count * width);
  for (let i = 0; i < count; i++) images.set([i >> 16, (i >> 8) & 255, i & 255, 0], i * width);
  return new Dataset({ images, labels: patternBytes(count, 9, classes), count, width, classes, source: 'numbered' });
}

function members(ds: Dataset): number[] {
  return Array.from({ length: ds.count }, (_, r) => (ds.images[r * 4] << 16) | (ds.images[r * 4 + 1] << 8) | ds.images[r * 4 + 2]);
}

describe('splitDataset', () => {
  let mnistTrain: Dataset;
  beforeAll(async () => {
    mnistTrain = (await loadMnist()).train;
  });

  it('valSplit 0.25 of the first 42000 MNIST samples gives 31500/10500', () => {
    const { train, validation } = splitDataset(mnistTrain, { valSplit: 0.25, limit: 42000, seed: 3 });
    expect(train.count).toBe(31500);
    expect(validation!.count).toBe(10500);
    expect(train.shape).toEqual([28, 28]);
    expect(validation!.classes).toBe(10);
    expect(validation!.source).toBe('MNIST train (first 42000) (validation split: 10500 of 42000, random, seed 3)');
  });

  it('parts are disjoint, cover every sample, keep the original order and carry their labels', () => {
    const ds = numbered(1000, 10);
    for (const order of ['random', 'stratified', 'sequential'] as const) {
      const { train, validation } = splitDataset(ds, { valSplit: 0.3, order, seed: 11 });
      const t = members(train);
      const v = members(validation!);
      expect(t.length).toBe(700);
      expect(v.length).toBe(300);
      expect([...t, ...v].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      expect(t).toEqual([...t].sort((a, b) => a - b));
      expect(v).toEqual([...v].sort((a, b) => a - b));
      t.forEach((i, r) => expect(train.labels![r]).toBe(ds.labels![i]));
      v.forEach((i, r) => expect(validation!.labels![r]).toBe(ds.labels![i]));
    }
  });

  it('the same seed gives the same split, another seed another one', () => {
    const ds = numbered(2000, 10);
    for (const order of ['random', 'stratified'] as const) {
      const a = members(splitDataset(ds, { valSplit: 0.2, order, seed: 5 }).validation!);
      const b = members(splitDataset(ds, { valSplit: 0.2, order, seed: 5 }).validation!);
      const c = members(splitDataset(ds, { valSplit: 0.2, order, seed: 6 }).validation!);
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
    }
  });

  it('a random split draws from the whole range, not from one end', () => {
    const v = members(splitDataset(numbered(2000, 10), { valSplit: 0.25, seed: 1 }).validation!);
    const firstHalf = v.filter((i) => i < 1000).length;
    expect(firstHalf).toBeGreaterThan(200);
    expect(firstHalf).toBeLessThan(300);
  });

  it('sequential keeps the last samples for validation', () => {
    const { train, validation } = splitDataset(numbered(10, 3), { valSplit: 0.2, order: 'sequential' });
    expect(members(train)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(members(validation!)).toEqual([8, 9]);
  });

  it('stratified keeps each class within one sample of its share', () => {
    // Unbalanced classes whose shares do not divide evenly: 400, 150, 3, then 4 × 111.
    const labels = new Uint8Array(997);
    for (let i = 0; i < labels.length; i++) labels[i] = i < 400 ? 0 : i < 550 ? 1 : i < 553 ? 2 : 3 + (i % 4);
    const ds = new Dataset({ images: new Uint8Array(997), labels, count: 997, width: 1, source: 'unbalanced' });
    const ratio = 0.3;
    const { train, validation } = splitDataset(ds, { valSplit: ratio, order: 'stratified', seed: 2 });
    expect(validation!.count).toBe(Math.round(997 * ratio));
    const all = ds.classCounts();
    const held = validation!.classCounts();
    const kept = train.classCounts();
    all.forEach((n, c) => {
      expect(Math.abs(held[c] - n * ratio)).toBeLessThan(1);
      expect(held[c] + kept[c]).toBe(n);
    });
  });

  it('valSplit 0 returns everything for training', () => {
    const ds = numbered(50, 4);
    expect(splitDataset(ds, { valSplit: 0 })).toEqual({ train: ds, validation: null });
  });

  it('rejects bad options, naming them', () => {
    const ds = numbered(10, 3);
    expect(() => splitDataset(ds, { valSplit: 1 })).toThrow('valSplit must be in [0, 1), got 1');
    expect(() => splitDataset(ds, { valSplit: -0.1 })).toThrow('valSplit must be in [0, 1)');
    expect(() => splitDataset(ds, { valSplit: 0.01 })).toThrow('valSplit 0.01 of 10 samples leaves 0 for validation');
    expect(() => splitDataset(ds, { valSplit: 0.2, order: 'shuffled' as never })).toThrow('order must be one of random, stratified, sequential');
    const unlabeled = new Dataset({ images: new Uint8Array(10), labels: null, count: 10, width: 1, source: 'bare' });
    expect(() => splitDataset(unlabeled, { valSplit: 0.2, order: 'stratified' })).toThrow('bare has no labels, so it cannot be split by class');
  });
});

describe('takeFirst', () => {
  it('keeps the first N samples, or all of them when there are fewer', () => {
    const ds = numbered(100, 5);
    const first = takeFirst(ds, 7);
    expect(members(first)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(first.labels!)).toEqual(Array.from(ds.labels!.subarray(0, 7)));
    expect(first.classes).toBe(5);
    expect(takeFirst(ds, 100)).toBe(ds);
    expect(members(splitDataset(ds, { valSplit: 0.5, order: 'sequential', limit: 10 }).validation!)).toEqual([5, 6, 7, 8, 9]);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => takeFirst(numbered(5, 2), 0)).toThrow('limit must be a positive integer, got 0');
    expect(() => takeFirst(numbered(5, 2), 2.5)).toThrow('limit must be a positive integer, got 2.5');
  });
});

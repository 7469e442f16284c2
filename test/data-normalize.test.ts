import { describe, expect, it } from 'vitest';
import { Dataset, fitNormalization, normalizeSplits, NO_NORMALIZATION, SCALE_TO_UNIT, splitDataset } from '../src/data/index.js';
import { patternBytes } from './data-fixtures.js';

/** Float64 per-feature mean and population std of pixels/255 over the given samples. */
function referenceStatistics(ds: Dataset): { mean: number[]; std: number[] } {
  const mean = new Array<number>(ds.width).fill(0);
  const std = new Array<number>(ds.width).fill(0);
  for (let r = 0; r < ds.count; r++) for (let j = 0; j < ds.width; j++) mean[j] += ds.images[r * ds.width + j] / 255 / ds.count;
  for (let r = 0; r < ds.count; r++) for (let j = 0; j < ds.width; j++) std[j] += (ds.images[r * ds.width + j] / 255 - mean[j]) ** 2 / ds.count;
  return { mean, std: std.map(Math.sqrt) };
}

/**
 * 400 samples of 6 features: feature 2 is constant (like MNIST's border pixels), and the last 100
 * samples are brighter, so statistics over all samples differ from those of the first 300.
 */
function shiftedData(): Dataset {
  const count = 400;
  const width = 6;
  const images = patternBytes(count * width, 21, 128);
  for (let r = 0; r < count; r++) {
    images[r * width + 2] = 17;
    if (r >= 300) for (let j = 0; j < width; j++) if (j !== 2) images[r * width + j] += 120;
  }
  return new Dataset({ images, labels: patternBytes(count, 22, 3), count, width, source: 'shifted' });
}

describe('normalization', () => {
  it("'scale' divides by 255 and 'none' keeps raw values; 'scale' is the default", () => {
    const ds = shiftedData();
    expect(ds.normalization).toBe(SCALE_TO_UNIT);
    expect(SCALE_TO_UNIT).toEqual({ scale: 1 / 255 });
    expect(fitNormalization('scale', ds)).toBe(SCALE_TO_UNIT);
    expect(fitNormalization('none', ds)).toBe(NO_NORMALIZATION);
    expect(NO_NORMALIZATION).toEqual({ scale: 1 });
  });

  it("'standardize' takes mean and std from the training split only, and applies them to the others", () => {
    const { train, validation } = splitDataset(shiftedData(), { valSplit: 0.25, order: 'sequential' });
    const splits = normalizeSplits('standardize', { train, validation, test: null });
    const { mean, std } = referenceStatistics(train);
    const whole = referenceStatistics(shiftedData());
    const n = splits.train.normalization;
    for (let j = 0; j < train.width; j++) {
      expect(n.mean![j]).toBeCloseTo(mean[j], 6);
      if (j !== 2) {
        expect(n.invStd![j]).toBeCloseTo(1 / std[j], 4);
        expect(Math.abs(n.mean![j] - whole.mean[j])).toBeGreaterThan(0.05); // would fail on all-sample statistics
      }
    }
    expect(splits.validation!.normalization).toBe(n);
    expect(splits.test).toBeNull();
    // The same shared memory under a new description: no copy of the pixels.
    expect(splits.train.images).toBe(train.images);
    expect(splits.validation!.images).toBe(validation!.images);
  });

  it('a feature constant in the training split gets invStd 1 instead of a division by zero', () => {
    const n = fitNormalization('standardize', shiftedData());
    expect(n.invStd![2]).toBe(1);
    expect(n.mean![2]).toBeCloseTo(17 / 255, 7);
    for (const v of [...n.mean!, ...n.invStd!]) expect(Number.isFinite(v)).toBe(true);
  });

  it('rejects an unknown kind and an empty training set', () => {
    const ds = shiftedData();
    expect(() => fitNormalization('minmax' as never, ds)).toThrow('normalization must be one of scale, standardize, none, got "minmax"');
    const empty = new Dataset({ images: new Uint8Array(0), labels: null, count: 0, width: 6, source: 'nothing' });
    expect(() => fitNormalization('standardize', empty)).toThrow('nothing: cannot standardize with statistics of an empty data set');
  });
});

// A TrainingData over plain arrays, for tests that build their own samples.
import type { TrainingData } from '../../src/train/data.js';
import { Random } from '../../src/util/random.js';

export function arrayData(x: Float32Array, labels: Int32Array, width: number, classes: number): TrainingData {
  return {
    count: labels.length,
    width,
    classes,
    gather(order, start, count, out, outLabels) {
      for (let r = 0; r < count; r++) {
        const i = order[start + r];
        out.set(x.subarray(i * width, (i + 1) * width), r * width);
        outLabels[r] = labels[i];
      }
    },
  };
}

/** Gaussian blobs, one per class, so that a small network can learn them. */
export function blobs(count: number, width: number, classes: number, seed: number, spread = 0.5): TrainingData & { x: Float32Array; labels: Int32Array } {
  const rng = new Random(seed);
  const centers = Array.from({ length: classes }, () => Array.from({ length: width }, () => rng.normal()));
  const x = new Float32Array(count * width);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < width; j++) x[i * width + j] = centers[c][j] + spread * rng.normal();
  }
  return { ...arrayData(x, labels, width, classes), x, labels };
}

// Small Datasets (uint8 pixels on shared memory, as the data-parallel engine needs them) and the
// engine setup the trainer would build, for tests that drive an engine directly.
import { Dataset } from '../../src/data/dataset.js';
import type { Precision } from '../../src/nn/dense.js';
import type { Model } from '../../src/nn/model.js';
import { sharedFloats } from '../../src/util/shared-memory.js';
import { type OptimizerName, resolveOptimizer, updateRule } from '../../src/optim/optimizer.js';
import type { EngineSetup } from '../../src/train/engine.js';
import { identity } from '../../src/train/serial.js';
import { Random } from '../../src/util/random.js';

/** Gaussian blobs around one random center per class, quantized to bytes; sample i has class i % classes. */
export function blobDataset(count: number, width: number, classes: number, seed: number, spread = 30): Dataset {
  const rng = new Random(seed);
  const centers = Array.from({ length: classes }, () => Array.from({ length: width }, () => 40 + 175 * rng.uniform()));
  const images = new Uint8Array(count * width);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < width; j++) images[i * width + j] = Math.max(0, Math.min(255, Math.round(centers[c][j] + spread * rng.normal())));
  }
  return new Dataset({ images, labels, count, width, classes, source: 'blobs' });
}

/** What train() hands an engine: identity order (no shuffle), fresh optimizer state. */
export function engineSetup(
  model: Model,
  data: Dataset,
  batchSize: number,
  optimizer: OptimizerName = 'sgd',
  evalData?: Dataset,
  precision: Precision = 'fp32',
): EngineSetup {
  const config = resolveOptimizer(optimizer);
  return {
    model,
    data,
    evalData,
    order: identity(data.count),
    batchSize,
    optimizer: config,
    optimizerState: Array.from({ length: updateRule(config).stateSlabs }, () => sharedFloats(model.layout.paramCount)),
    precision,
  };
}

/** OS threads of this process (Linux), or null where /proc is not there. */
export async function processThreads(): Promise<number | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    return Number(/^Threads:\s+(\d+)$/m.exec(await readFile('/proc/self/status', 'utf8'))![1]);
  } catch {
    return null;
  }
}

/**
 * Asserts that the process is back to at most `before` OS threads. A terminated worker's thread can
 * outlive the promise that reported its end by a few milliseconds, so this polls for up to 2 s.
 */
export async function expectThreadsBackTo(before: number | null): Promise<void> {
  if (before === null) return;
  let after = await processThreads();
  for (let waited = 0; after! > before && waited < 2000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    after = await processThreads();
  }
  if (after! > before) throw new Error(`${after! - before} threads more than before (${before}) are still running`);
}

/**
 * Float features far from [0, 1] (around 50 ± 20) and targets from a fixed random linear map of them
 * plus a little noise: regression values (around 150) or multi-label 0/1 rows (the sign of each map).
 */
export function floatDataset(count: number, width: number, outputs: number, seed: number, task: 'regression' | 'multilabel'): Dataset {
  const rng = new Random(seed);
  const weights = Array.from({ length: outputs * width }, () => rng.normal());
  const images = new Float32Array(count * width);
  for (let i = 0; i < images.length; i++) images[i] = 50 + 20 * rng.normal();
  const targets = new Float32Array(count * outputs);
  for (let r = 0; r < count; r++)
    for (let k = 0; k < outputs; k++) {
      let y = 0;
      for (let j = 0; j < width; j++) y += (weights[k * width + j] * (images[r * width + j] - 50)) / 20;
      targets[r * outputs + k] = task === 'regression' ? 150 + 10 * y + 0.5 * rng.normal() : y > 0 ? 1 : 0;
    }
  return new Dataset({ images, labels: null, targets, task, count, width, source: `${task} floats` });
}

// bench:train — single-threaded training throughput of 784-128-10 on the real MNIST.
// Achieved GFLOP/s, `gflops`, counts 6 × weights × samples per epoch: 2 for the forward product and
// 2 each for the two backward products (input and weight gradients); biases and elementwise work are
// not counted. The first layer's input gradient is never computed, so `gemmGflops` also gives the rate
// of the matrix work actually done (gemmFlopsPerSample). It trains in fp32, then (on CPUs with
// AVX512-BF16) the same model from the same start in bf16; each row carries its precision.
// --float32 trains on the same pixels stored as float32; --compare-features times both kinds in turn
// (--repeats rounds of --epochs epochs, fp32) and gives their samples/s ratio.
import { fileURLToPath } from 'node:url';
import { Dataset } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/mnist.js';
import { native } from '../src/native.js';
import type { Precision } from '../src/nn/dense.js';
import { createModel } from '../src/nn/model.js';
import { train } from '../src/train/trainer.js';
import { gemmFlopsPerSample, machineDescription, median, parseBenchArgs, report, type Row } from './common.js';

export interface TrainBenchOptions {
  epochs?: number;
  batchSize?: number;
  layers?: number[];
  workers?: number;
  /** MNIST as stored (uint8, ÷255 at gather) or the same pixels as float32 features. */
  features?: 'uint8' | 'float32';
  /** Default: fp32, and bf16 where the CPU has AVX512-BF16. */
  precisions?: Precision[];
  json?: boolean;
  out?: (line: string) => void;
}

export async function runTrainBench(o: TrainBenchOptions = {}): Promise<Row[]> {
  const out = o.out ?? ((line: string) => console.log(line));
  const layers = o.layers ?? [784, 128, 10];
  const batchSize = o.batchSize ?? 128;
  const workers = o.workers ?? 0;
  const mnist = await loadMnist();
  const features = o.features ?? 'uint8';
  const asFloats = (d: Dataset) => new Dataset({ ...d, images: Float32Array.from(d.images), labels: d.labels, source: `${d.source} (float32)` });
  const trainSet = features === 'float32' ? asFloats(mnist.train) : mnist.train;
  const test = features === 'float32' ? asFloats(mnist.test) : mnist.test;
  const precisions: Precision[] = o.precisions ?? (native.bf16Kernel() === 'avx512bf16' ? ['fp32', 'bf16'] : ['fp32']);
  let weights = 0;
  for (let i = 0; i + 1 < layers.length; i++) weights += layers[i] * layers[i + 1];
  if (!o.json)
    out(`bench:train — ${layers.join('-')}, ${features} features, batch ${batchSize}, momentum 0.9, workers ${workers}; ${await machineDescription()}`);
  const rows: Row[] = [];
  for (const precision of precisions) {
    const model = createModel({ layers, activation: 'relu', output: 'softmax' }, { init: 'he', seed: 1 });
    await train(model, trainSet, {
      epochs: o.epochs ?? 10,
      batchSize,
      optimizer: { kind: 'momentum', momentum: 0.9 },
      lr: 0.05,
      workers,
      precision,
      // Both kinds scaled to [0, 1]: ÷255 for bytes, by the (0–255) range for floats.
      normalize: 'scale',
      evalData: test,
      onEpoch: (e) => {
        const row: Row = {
          bench: 'train',
          net: layers.join('-'),
          features,
          precision,
          batch: batchSize,
          workers,
          epoch: e.epoch,
          seconds: e.seconds,
          samplesPerSec: Math.round(e.samplesPerSec),
          gflops: (6 * weights * trainSet.count) / e.seconds / 1e9,
          gemmGflops: (gemmFlopsPerSample(layers) * trainSet.count) / e.seconds / 1e9,
          loss: e.loss,
          testAccuracy: e.testAccuracy ?? NaN,
        };
        rows.push(row);
        if (o.json) out(JSON.stringify(row));
      },
    });
  }
  if (!o.json) report(rows, false, out);
  return rows;
}

/**
 * uint8 against float32 features (fp32): runs of each kind in turn, `rounds` times, so that the
 * machine's load falls on both alike; the median samples/s of each kind over every epoch but each
 * run's first, and their ratio.
 */
async function compareFeatures(rounds: number, epochs: number, json: boolean): Promise<void> {
  const kinds = ['uint8', 'float32'] as const;
  const samples: Record<(typeof kinds)[number], number[]> = { uint8: [], float32: [] };
  for (let r = 0; r < rounds; r++)
    for (const features of kinds) {
      const rows = await runTrainBench({ features, epochs, precisions: ['fp32'], json: true, out: () => {} });
      samples[features].push(...rows.slice(1).map((row) => row.samplesPerSec as number));
    }
  const [uint8, float32] = kinds.map((k) => median(samples[k]));
  const row: Row = {
    bench: 'train-features',
    rounds,
    epochs,
    uint8SamplesPerSec: Math.round(uint8),
    float32SamplesPerSec: Math.round(float32),
    float32ToUint8: float32 / uint8,
  };
  if (!json) console.log(`bench:train --compare-features — 784-128-10, fp32, batch 128, serial; ${await machineDescription()}`);
  report([row], json);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = parseBenchArgs();
  const epochsAt = args.args.indexOf('--epochs');
  const epochs = epochsAt >= 0 ? Number(args.args[epochsAt + 1]) : undefined;
  if (args.args.includes('--compare-features')) await compareFeatures(args.repeats, epochs ?? 3, args.json);
  else {
    const float32 = args.args.includes('--float32');
    await runTrainBench({ json: args.json, epochs: epochs ?? 10, features: float32 ? 'float32' : 'uint8' });
  }
}

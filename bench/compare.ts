// bench:compare — the same network, data and optimizer in fcnn (serial and on all cores) and in
// numpy with OpenBLAS on all cores (bench/numpy_mlp.py, when python3 has numpy): median epoch time
// of 784-128-10 at minibatch 128 with momentum, measured in one run, and the ratios.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadMnist, mnistDirectory } from '../src/data/mnist.js';
import { createModel } from '../src/nn/model.js';
import { train } from '../src/train/trainer.js';
import { machineDescription, median, parseBenchArgs, report, type Row } from './common.js';

const BATCH = 128;

async function fcnnEpochSeconds(workers: number, epochs: number): Promise<{ seconds: number; accuracy: number }> {
  const { train: trainSet, test } = await loadMnist();
  const model = createModel({ layers: [784, 128, 10] }, { init: 'he', seed: 1 });
  const history = await train(model, trainSet, {
    epochs,
    batchSize: BATCH,
    optimizer: { kind: 'momentum', momentum: 0.9 },
    lr: 0.05,
    workers,
    evalData: test,
  });
  return { seconds: median(history.epochs.map((e) => e.seconds)), accuracy: history.testAccuracy ?? NaN };
}

function numpyEpochSeconds(epochs: number): { seconds: number; accuracy: number; version: string } | string {
  const script = fileURLToPath(new URL('../../bench/numpy_mlp.py', import.meta.url));
  const run = spawnSync('python3', [script, mnistDirectory(), String(BATCH), String(epochs)], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return `numpy run failed: ${run.error?.message ?? run.stderr.trim().split('\n').pop()}`;
  const line = JSON.parse(run.stdout.trim().split('\n').pop()!);
  return { seconds: line.epochSeconds, accuracy: line.testAccuracy, version: line.numpy };
}

export async function runCompareBench(o: { epochs?: number; json?: boolean } = {}): Promise<Row[]> {
  const epochs = o.epochs ?? 3;
  const cores = availableParallelism();
  const rows: Row[] = [];
  const add = (impl: string, threads: number, seconds: number, accuracy: number) =>
    rows.push({ bench: 'compare', impl, threads, batch: BATCH, epochSeconds: seconds, samplesPerSec: Math.round(60000 / seconds), testAccuracy: accuracy });
  const serial = await fcnnEpochSeconds(0, epochs);
  add('fcnn serial', 1, serial.seconds, serial.accuracy);
  const parallel = await fcnnEpochSeconds(cores, epochs);
  add(`fcnn ${cores} workers`, cores, parallel.seconds, parallel.accuracy);
  const numpy = numpyEpochSeconds(epochs);
  if (typeof numpy === 'string') console.error(numpy);
  else add(`numpy ${numpy.version} (OpenBLAS)`, cores, numpy.seconds, numpy.accuracy);
  const base = rows[rows.length - 1].epochSeconds as number;
  for (const row of rows) row.speedupOverLast = base / (row.epochSeconds as number);
  if (!o.json) console.log(`bench:compare — 784-128-10, batch ${BATCH}, momentum 0.9, median of ${epochs} epochs; ${await machineDescription()}`);
  report(rows, o.json ?? false);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseBenchArgs();
  await runCompareBench({ json: args.json, epochs: args.repeats });
}

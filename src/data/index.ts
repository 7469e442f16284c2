// The data layer's public surface.
export { Dataset, datasetFromShared, type DatasetInit, type SharedDataset } from './dataset.js';
export { loadMnist, mnistDirectory } from './mnist.js';
export { loadIdx, loadIdxDirectory, type IdxOptions } from './idx.js';
export { loadCsv, writeCsv, type CsvOptions } from './csv.js';
export { splitDataset, takeFirst, SPLIT_ORDERS, type Split, type SplitOptions, type SplitOrder } from './split.js';
export {
  fitNormalization,
  normalizeSplits,
  NORMALIZATION_KINDS,
  NO_NORMALIZATION,
  SCALE_TO_UNIT,
  type Normalization,
  type NormalizationKind,
} from './normalize.js';

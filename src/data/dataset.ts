// A data set as the trainer sees it: uint8 pixels and uint8 labels in SharedArrayBuffers, so that
// worker threads read the same memory instead of copies, and a normalization applied only when a
// minibatch is gathered into float32 (a float copy of MNIST would be 4× the bytes, per worker).
import { native } from '../native.js';
import { SCALE_TO_UNIT, type Normalization } from './normalize.js';
import { sharedBuffer } from '../util/shared-memory.js';

export interface DatasetInit {
  /** count × width pixels, row-major; copied into a SharedArrayBuffer unless it already owns one. */
  images: Uint8Array;
  /** One label per sample, or null for a data set without labels (e.g. a Kaggle test.csv). */
  labels: Uint8Array | null;
  count: number;
  /** Features per sample (784 for MNIST). */
  width: number;
  /** Image shape when known ([28, 28] for MNIST); its product is width. */
  shape?: readonly number[] | null;
  /** Number of classes; defaults to the largest label + 1 (0 without labels). Every label must be below it. */
  classes?: number;
  /** Where the samples come from, for humans: "MNIST train", "train.csv (first 1000)". */
  source: string;
  /** Defaults to scaling by 1/255. */
  normalization?: Normalization;
  /**
   * Where sample i's label is stored, for messages: "labels.idx1 byte 1234 (sample 1226)".
   * Defaults to "source sample i".
   */
  labelAt?: (sample: number) => string;
}

/** What crosses to a worker thread: shared memory plus plain fields (structured-clone friendly). */
export interface SharedDataset {
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer | null;
  count: number;
  width: number;
  shape: number[] | null;
  classes: number;
  source: string;
  normalization: Normalization;
}

export class Dataset {
  readonly images: Uint8Array;
  readonly labels: Uint8Array | null;
  readonly count: number;
  readonly width: number;
  readonly shape: readonly number[] | null;
  readonly classes: number;
  readonly source: string;
  readonly normalization: Normalization;
  /** Where sample i's label is stored (DatasetInit.labelAt). */
  readonly labelAt: (sample: number) => string;

  constructor(init: DatasetInit) {
    const { count, width, source } = init;
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`${source}: count must be a non-negative integer, got ${count}`);
    if (!Number.isInteger(width) || width < 1) throw new RangeError(`${source}: width must be a positive integer, got ${width}`);
    if (init.images.length !== count * width)
      throw new RangeError(
        `${source}: images hold ${init.images.length} bytes, expected count × width = ${count} × ${width} = ${count * width}`,
      );
    if (init.labels && init.labels.length !== count)
      throw new RangeError(`${source}: ${init.labels.length} labels for ${count} samples`);
    const shape = init.shape ? [...init.shape] : null;
    if (shape && shape.reduce((a, b) => a * b, 1) !== width)
      throw new RangeError(`${source}: shape [${shape.join(', ')}] does not hold width ${width} features`);
    const classes = init.classes ?? (init.labels ? maxOf(init.labels) + 1 : 0);
    if (!Number.isInteger(classes) || classes < 0 || classes > 256)
      throw new RangeError(`${source}: classes must be an integer from 0 to 256, got ${classes}`);
    const labelAt = init.labelAt ?? ((sample: number) => `${source} sample ${sample}`);
    if (init.labels) requireLabelsBelow(init.labels, classes, 'the classes given', labelAt);
    const normalization = init.normalization ?? SCALE_TO_UNIT;
    for (const name of ['mean', 'invStd'] as const) {
      const v = normalization[name];
      if (v && v.length !== width) throw new RangeError(`${source}: normalization.${name} has ${v.length} values, expected ${width}`);
    }
    this.images = inSharedMemory(init.images);
    this.labels = init.labels ? inSharedMemory(init.labels) : null;
    this.count = count;
    this.width = width;
    this.shape = shape;
    this.classes = classes;
    this.source = source;
    this.normalization = normalization;
    this.labelAt = labelAt;
  }

  /**
   * Throws a RangeError naming where the first label ≥ classes is stored; `limit` says what
   * sets the bound ("the model's 10 outputs").
   */
  requireLabelsBelow(classes: number, limit: string): void {
    if (this.labels) requireLabelsBelow(this.labels, classes, limit, this.labelAt);
  }

  get hasLabels(): boolean {
    return this.labels !== null;
  }

  /** "MNIST train: 60000 samples of 28×28, 10 classes, scaled by 1/255". */
  get description(): string {
    const features = this.shape ? this.shape.join('×') : `${this.width} features`;
    const classes = this.labels ? `${this.classes} classes` : 'no labels';
    return `${this.source}: ${this.count} samples of ${features}, ${classes}, ${describeNormalization(this.normalization)}`;
  }

  /**
   * Gathers the samples indices[start .. start+count) into x (count × width float32, normalized)
   * and, when y is given, their labels into y. The buffers are the caller's, sized once.
   */
  gather(indices: Int32Array, start: number, count: number, x: Float32Array, y?: Int32Array | null): void {
    if (y && !this.labels) throw new TypeError(`${this.source} has no labels to gather`);
    const { scale, mean, invStd } = this.normalization;
    native.gatherRows(this.images, this.width, indices, start, count, x, scale, mean ?? null, invStd ?? null);
    if (y) native.gatherLabels(this.labels!, indices, start, count, y);
  }

  /** Starts fetching samples indices[start .. start+count) into the cache, for a gather soon after. */
  prefetch(indices: Int32Array, start: number, count: number): void {
    native.prefetchRows(this.images, this.width, indices, start, count);
  }

  /** The same samples (same shared memory) under another normalization. */
  withNormalization(normalization: Normalization): Dataset {
    return new Dataset({ ...this.init(), normalization });
  }

  /** The samples at `indices`, in that order, copied into new shared memory. */
  subset(indices: ArrayLike<number>, source: string): Dataset {
    const n = indices.length;
    const w = this.width;
    const images = sharedBytes(n * w);
    const labels = this.labels ? sharedBytes(n) : null;
    for (let r = 0; r < n; r++) {
      const i = indices[r];
      if (!(Number.isInteger(i) && i >= 0 && i < this.count))
        throw new RangeError(`${this.source}: index ${i} is outside [0, ${this.count})`);
      images.set(this.images.subarray(i * w, i * w + w), r * w);
      if (labels) labels[r] = this.labels![i];
    }
    const labelAt = this.labelAt, picked = Int32Array.from(indices);
    return new Dataset({ ...this.init(), images, labels, count: n, source, labelAt: (r) => labelAt(picked[r]) });
  }

  /** Samples per class (length classes); throws without labels. */
  classCounts(): number[] {
    if (!this.labels) throw new TypeError(`${this.source} has no labels to count`);
    const counts = new Array<number>(this.classes).fill(0);
    for (const label of this.labels) counts[label]++;
    return counts;
  }

  /** For postMessage to a worker: the memory is shared, not copied. */
  share(): SharedDataset {
    return {
      images: this.images.buffer as SharedArrayBuffer,
      labels: this.labels ? (this.labels.buffer as SharedArrayBuffer) : null,
      count: this.count,
      width: this.width,
      shape: this.shape ? [...this.shape] : null,
      classes: this.classes,
      source: this.source,
      normalization: this.normalization,
    };
  }

  private init(): DatasetInit {
    return {
      images: this.images,
      labels: this.labels,
      count: this.count,
      width: this.width,
      shape: this.shape,
      classes: this.classes,
      source: this.source,
      normalization: this.normalization,
      labelAt: this.labelAt,
    };
  }
}

/** Rebuilds, inside a worker, the Dataset that share() described. */
export function datasetFromShared(shared: SharedDataset): Dataset {
  return new Dataset({
    ...shared,
    images: new Uint8Array(shared.images),
    labels: shared.labels ? new Uint8Array(shared.labels) : null,
  });
}

/** Zeroed bytes in a SharedArrayBuffer of their own, as a Dataset keeps them. */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(sharedBuffer(length));
}

/** Index of the first label ≥ classes, or −1. */
function firstLabelOutside(labels: Uint8Array, classes: number): number {
  for (let i = 0; i < labels.length; i++) if (labels[i] >= classes) return i;
  return -1;
}

function requireLabelsBelow(labels: Uint8Array, classes: number, limit: string, labelAt: (sample: number) => string): void {
  const i = firstLabelOutside(labels, classes);
  if (i >= 0) throw new RangeError(`${labelAt(i)}: label ${labels[i]} is outside [0, ${classes}), ${limit}`);
}

/** The array itself when it spans a whole SharedArrayBuffer, else a copy in a new one. */
function inSharedMemory(a: Uint8Array): Uint8Array {
  if (a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a;
  const copy = sharedBytes(a.length);
  copy.set(a);
  return copy;
}

function maxOf(a: Uint8Array): number {
  let m = -1;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

function describeNormalization(n: Normalization): string {
  if (n.mean || n.invStd) return `standardized per feature`;
  return n.scale === 1 ? 'not normalized' : `scaled by ${n.scale === SCALE_TO_UNIT.scale ? '1/255' : n.scale}`;
}

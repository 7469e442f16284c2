// A data set as the trainer sees it: features and targets in SharedArrayBuffers, so that worker
// threads read the same memory instead of copies, and a normalization applied only when a minibatch
// is gathered into float32. Features are uint8 (pixels: a float copy of MNIST would be 4× the bytes,
// per worker) or float32 (any range); targets are class labels (uint8, uint16 or int32, the smallest
// that holds the classes) or float rows (regression values, multi-label 0/1), standardized at gather
// when the model asks for it.
import { native } from '../native.js';
import type { Task } from '../nn/spec.js';
import { type ArraysInit, datasetFromArrays } from './arrays.js';
import { SCALE_TO_UNIT, type Normalization } from './normalize.js';
import { DataFormatError, type DataLocation, InvalidOptionError } from '../errors.js';
import { sharedBuffer, sharedBytes } from '../util/shared-memory.js';

export type Features = Uint8Array | Float32Array;
export type Labels = Uint8Array | Uint16Array | Int32Array;

export interface DatasetInit {
  /** count × width features, row-major; copied into a SharedArrayBuffer unless it already owns one. */
  images: Features;
  /** One class label per sample, or null for a data set without labels (e.g. a Kaggle test.csv) or with float targets. */
  labels: Labels | null;
  /** count × classes float targets (regression values or multi-label 0/1), instead of labels. */
  targets?: Float32Array | null;
  /** What the targets are: classification with labels; regression (default) or multilabel with targets. */
  task?: Task;
  count: number;
  /** Features per sample (784 for MNIST). */
  width: number;
  /** Image shape when known ([28, 28] for MNIST); its product is width. */
  shape?: readonly number[] | null;
  /**
   * Number of classes; defaults to the largest label + 1 (0 without labels). Every label must be below
   * it. With float targets: the values per sample (derived from targets.length / count).
   */
  classes?: number;
  /** Names of the classes, in label order, when the labels came from strings ("setosa", …). */
  classNames?: readonly string[] | null;
  /** Names of the target columns (a CSV's), so that a model can recognize them in later files. */
  targetNames?: readonly string[] | null;
  /** Where the samples come from, for humans: "MNIST train", "train.csv (first 1000)". */
  source: string;
  /** Defaults to scaling by 1/255. */
  normalization?: Normalization;
  /** Float targets are gathered as (t·scale − mean[j])·invStd[j]; default: as stored. */
  targetNormalization?: Normalization | null;
  /**
   * Where sample i's label is stored: the file and byte for DataFormatError, and the text for its
   * message ("labels.idx1 byte 1234 (sample 1226)"). Defaults to the source and "source sample i".
   */
  labelAt?: (sample: number) => LabelLocation;
}

export type LabelLocation = DataLocation & { text: string };

/** What crosses to a worker thread: shared memory plus plain fields (structured-clone friendly). */
export interface SharedDataset {
  images: SharedArrayBuffer;
  featureType: 'uint8' | 'float32';
  labels: SharedArrayBuffer | null;
  labelType: 'uint8' | 'uint16' | 'int32';
  targets: SharedArrayBuffer | null;
  task: Task;
  classNames: string[] | null;
  targetNames: string[] | null;
  targetNormalization: Normalization | null;
  count: number;
  width: number;
  shape: number[] | null;
  classes: number;
  source: string;
  normalization: Normalization;
}

export class Dataset {
  readonly images: Features;
  readonly labels: Labels | null;
  readonly targets: Float32Array | null;
  readonly task: Task;
  readonly count: number;
  readonly width: number;
  readonly shape: readonly number[] | null;
  /** Classes (classification), or float targets per sample (regression, multi-label). */
  readonly classes: number;
  readonly classNames: readonly string[] | null;
  readonly targetNames: readonly string[] | null;
  readonly source: string;
  readonly normalization: Normalization;
  readonly targetNormalization: Normalization | null;
  /** Where sample i's label is stored (DatasetInit.labelAt). */
  readonly labelAt: (sample: number) => LabelLocation;

  constructor(init: DatasetInit) {
    const { count, width, source } = init;
    if (!Number.isInteger(count) || count < 0) throw new InvalidOptionError('count', `${source}: count must be a non-negative integer, got ${count}`);
    if (!Number.isInteger(width) || width < 1) throw new InvalidOptionError('width', `${source}: width must be a positive integer, got ${width}`);
    if (!(init.images instanceof Uint8Array || init.images instanceof Float32Array))
      throw new InvalidOptionError('images', `${source}: images must be a Uint8Array or a Float32Array, got ${describeType(init.images)}`);
    if (init.images.length !== count * width)
      throw new InvalidOptionError(
        'images',
        `${source}: images hold ${init.images.length} values, expected count × width = ${count} × ${width} = ${count * width}`,
      );
    const targets = init.targets ?? null;
    if (init.labels && targets) throw new InvalidOptionError('targets', `${source}: give labels (classes) or targets (float rows), not both`);
    if (init.labels && !(init.labels instanceof Uint8Array || init.labels instanceof Uint16Array || init.labels instanceof Int32Array))
      throw new InvalidOptionError('labels', `${source}: labels must be a Uint8Array, Uint16Array or Int32Array, got ${describeType(init.labels)}`);
    if (init.labels && init.labels.length !== count) throw new InvalidOptionError('labels', `${source}: ${init.labels.length} labels for ${count} samples`);
    const task: Task = init.task ?? (targets ? 'regression' : 'classification');
    if ((task === 'classification') !== (targets === null) && (targets !== null || init.labels !== null))
      throw new InvalidOptionError('task', `${source}: task ${task} needs ${task === 'classification' ? 'labels' : 'float targets'}`);
    const shape = init.shape ? [...init.shape] : null;
    if (shape && shape.reduce((a, b) => a * b, 1) !== width)
      throw new InvalidOptionError('shape', `${source}: shape [${shape.join(', ')}] does not hold width ${width} features`);
    let classes: number;
    if (targets) {
      if (!(targets instanceof Float32Array))
        throw new InvalidOptionError('targets', `${source}: targets must be a Float32Array, got ${describeType(targets)}`);
      classes = init.classes ?? (count > 0 ? targets.length / count : 0);
      if (!Number.isInteger(classes) || classes < 1 || targets.length !== count * classes)
        throw new InvalidOptionError(
          'targets',
          `${source}: ${targets.length} targets are not ${count} samples × ${init.classes ?? 'a whole number of'} values`,
        );
      const bad = firstNonFinite(targets);
      if (bad >= 0)
        throw new InvalidOptionError(
          'targets',
          `${source}: sample ${Math.floor(bad / classes)} target ${bad % classes} is ${targets[bad]}, not a finite number`,
        );
      if (task === 'multilabel') {
        const i = targets.findIndex((t) => t !== 0 && t !== 1);
        if (i >= 0)
          throw new InvalidOptionError('targets', `${source}: sample ${Math.floor(i / classes)} label ${i % classes} is ${targets[i]}, expected 0 or 1`);
      }
    } else {
      classes = init.classes ?? (init.labels ? maxOf(init.labels) + 1 : 0);
      if (!Number.isInteger(classes) || classes < 0 || classes > MAX_CLASSES)
        throw new InvalidOptionError('classes', `${source}: classes must be an integer from 0 to ${MAX_CLASSES}, got ${classes}`);
    }
    const labelAt = init.labelAt ?? ((sample: number) => ({ file: source, text: `${source} sample ${sample}` }));
    if (init.labels) requireLabelsBelow(init.labels, classes, 'the classes given', labelAt);
    const classNames = init.classNames ? [...init.classNames] : null;
    if (classNames && classNames.length !== classes)
      throw new InvalidOptionError('classNames', `${source}: ${classNames.length} class names for ${classes} ${targets ? 'outputs' : 'classes'}`);
    const normalization = init.normalization ?? SCALE_TO_UNIT;
    checkNormalization(source, 'normalization', normalization, width);
    const targetNormalization = targets ? (init.targetNormalization ?? null) : null;
    if (targetNormalization) checkNormalization(source, 'targetNormalization', targetNormalization, classes);
    this.images = inSharedMemory(init.images);
    this.labels = init.labels ? inSharedMemory(init.labels) : null;
    this.targets = targets ? inSharedMemory(targets) : null;
    this.task = task;
    this.count = count;
    this.width = width;
    this.shape = shape;
    this.classes = classes;
    this.classNames = classNames;
    this.targetNames = init.targetNames ? [...init.targetNames] : null;
    this.source = source;
    this.normalization = normalization;
    this.targetNormalization = targetNormalization;
    this.labelAt = labelAt;
  }

  /**
   * Throws a DataFormatError naming where the first label ≥ classes is stored; `limit` says what
   * sets the bound ("the model's 10 outputs").
   */
  requireLabelsBelow(classes: number, limit: string): void {
    if (this.labels) requireLabelsBelow(this.labels, classes, limit, this.labelAt);
  }

  /**
   * A data set from arrays in memory: x as number[][] or a Float32Array with a width; y as class
   * indices, class names, numbers or rows of numbers (see ArraysInit). Errors name the row and column.
   */
  static fromArrays(init: ArraysInit): Dataset {
    return datasetFromArrays(init);
  }

  /** Whether the samples have targets of any kind (class labels or float rows). */
  get hasLabels(): boolean {
    return this.labels !== null || this.targets !== null;
  }

  /** "MNIST train: 60000 samples of 28×28, 10 classes, scaled by 1/255". */
  get description(): string {
    const features = this.shape ? this.shape.join('×') : `${this.width} ${this.images instanceof Float32Array ? 'float' : 'uint8'} features`;
    const targets = this.labels
      ? `${this.classes} classes`
      : this.targets
        ? `${this.classes} ${this.task === 'multilabel' ? 'labels' : 'target values'} per sample`
        : 'no labels';
    return `${this.source}: ${this.count} samples of ${features}, ${targets}, ${describeNormalization(this.normalization)}`;
  }

  /**
   * Gathers the samples indices[start .. start+count) into x (count × width float32, normalized)
   * and, when y is given, their targets: class labels into an Int32Array, float rows (count × classes,
   * normalized by targetNormalization) into a Float32Array. The buffers are the caller's, sized once.
   */
  gather(indices: Int32Array, start: number, count: number, x: Float32Array, y?: Int32Array | Float32Array | null): void {
    const { scale, mean, invStd } = this.normalization;
    if (y) this.checkTargetBuffer(y);
    native.gatherRows(this.images, this.width, indices, start, count, x, scale, mean ?? null, invStd ?? null);
    if (!y) return;
    if (y instanceof Int32Array) native.gatherLabels(this.labels!, indices, start, count, y);
    else {
      const t = this.targetNormalization;
      native.gatherRows(this.targets!, this.classes, indices, start, count, y, t?.scale ?? 1, t?.mean ?? null, t?.invStd ?? null);
    }
  }

  /** Starts fetching samples indices[start .. start+count) into the cache, for a gather soon after. */
  prefetch(indices: Int32Array, start: number, count: number): void {
    native.prefetchRows(this.images, this.width, indices, start, count);
  }

  /** The same samples (same shared memory) under another normalization. */
  withNormalization(normalization: Normalization): Dataset {
    return new Dataset({ ...this.init(), normalization });
  }

  /** The same samples (same shared memory) with float targets gathered under another normalization (null: as stored). */
  withTargetNormalization(targetNormalization: Normalization | null): Dataset {
    return new Dataset({ ...this.init(), targetNormalization });
  }

  /** The samples at `indices`, in that order, copied into new shared memory. */
  subset(indices: ArrayLike<number>, source: string): Dataset {
    const n = indices.length;
    const w = this.width;
    const k = this.classes;
    const images = sharedLike(this.images, n * w);
    const labels = this.labels ? sharedLike(this.labels, n) : null;
    const targets = this.targets ? sharedLike(this.targets, n * k) : null;
    for (let r = 0; r < n; r++) {
      const i = indices[r];
      if (!(Number.isInteger(i) && i >= 0 && i < this.count))
        throw new InvalidOptionError('indices', `${this.source}: index ${i} is outside [0, ${this.count})`);
      images.set(this.images.subarray(i * w, i * w + w), r * w);
      if (labels) labels[r] = this.labels![i];
      if (targets) targets.set(this.targets!.subarray(i * k, i * k + k), r * k);
    }
    const labelAt = this.labelAt,
      picked = Int32Array.from(indices);
    return new Dataset({ ...this.init(), images, labels, targets, count: n, source, labelAt: (r) => labelAt(picked[r]) });
  }

  /** Samples per class (length classes); throws without labels. */
  classCounts(): number[] {
    if (!this.labels) throw new TypeError(`${this.source} has no class labels to count`);
    const counts = new Array<number>(this.classes).fill(0);
    for (const label of this.labels) counts[label]++;
    return counts;
  }

  /** For postMessage to a worker: the memory is shared, not copied. */
  share(): SharedDataset {
    return {
      images: this.images.buffer as SharedArrayBuffer,
      featureType: this.images instanceof Float32Array ? 'float32' : 'uint8',
      labels: this.labels ? (this.labels.buffer as SharedArrayBuffer) : null,
      labelType: this.labels instanceof Int32Array ? 'int32' : this.labels instanceof Uint16Array ? 'uint16' : 'uint8',
      targets: this.targets ? (this.targets.buffer as SharedArrayBuffer) : null,
      task: this.task,
      classNames: this.classNames ? [...this.classNames] : null,
      targetNames: this.targetNames ? [...this.targetNames] : null,
      targetNormalization: this.targetNormalization,
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
      targets: this.targets,
      task: this.task,
      count: this.count,
      width: this.width,
      shape: this.shape,
      classes: this.classes,
      classNames: this.classNames,
      targetNames: this.targetNames,
      source: this.source,
      normalization: this.normalization,
      targetNormalization: this.targetNormalization,
      labelAt: this.labelAt,
    };
  }

  private checkTargetBuffer(y: Int32Array | Float32Array): void {
    if (!this.hasLabels) throw new TypeError(`${this.source} has no labels to gather`);
    if (y instanceof Int32Array ? !this.labels : !this.targets)
      throw new TypeError(
        `${this.source} has ${this.labels ? 'class labels' : `float targets (${this.task})`}, ` +
          `not the ${y instanceof Int32Array ? 'class labels' : 'float targets'} asked for`,
      );
  }
}

/** Classes a data set may have: labels are stored as int32 beyond 65536. */
export const MAX_CLASSES = 1 << 24;

/** Rebuilds, inside a worker, the Dataset that share() described. */
export function datasetFromShared(shared: SharedDataset): Dataset {
  const { labels, labelType } = shared;
  return new Dataset({
    ...shared,
    images: shared.featureType === 'float32' ? new Float32Array(shared.images) : new Uint8Array(shared.images),
    labels: !labels ? null : labelType === 'int32' ? new Int32Array(labels) : labelType === 'uint16' ? new Uint16Array(labels) : new Uint8Array(labels),
    targets: shared.targets ? new Float32Array(shared.targets) : null,
  });
}

/** Zeroed bytes in a SharedArrayBuffer of their own, as a Dataset keeps them. */
/** The smallest label array that holds `classes` classes, zeroed, in shared memory. */
export function sharedLabels(length: number, classes: number): Labels {
  if (classes <= 256) return sharedBytes(length);
  if (classes <= 65536) return new Uint16Array(sharedBuffer(2 * length));
  return new Int32Array(sharedBuffer(4 * length));
}

/** Index of the first label outside [0, classes), or −1. */
function firstLabelOutside(labels: Labels, classes: number): number {
  for (let i = 0; i < labels.length; i++) if (labels[i] >= classes || labels[i] < 0) return i;
  return -1;
}

function requireLabelsBelow(labels: Labels, classes: number, limit: string, labelAt: (sample: number) => LabelLocation): void {
  const i = firstLabelOutside(labels, classes);
  if (i < 0) return;
  const { text, ...where } = labelAt(i);
  throw new DataFormatError(where, `${text}: label ${labels[i]} is outside [0, ${classes}), ${limit}`);
}

type Typed = Features | Labels;

/** A zeroed array of the same type as `a`, of `length` elements, in shared memory. */
function sharedLike<T extends Typed>(a: T, length: number): T {
  const Ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  return new Ctor(sharedBuffer(length * a.BYTES_PER_ELEMENT));
}

/** The array itself when it spans a whole SharedArrayBuffer, else a copy in a new one. */
function inSharedMemory<T extends Typed>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a;
  const copy = sharedLike(a, a.length);
  copy.set(a as never);
  return copy;
}

function maxOf(a: Labels): number {
  let m = -1;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

function checkNormalization(source: string, what: string, n: Normalization, width: number): void {
  for (const name of ['mean', 'invStd'] as const) {
    const v = n[name];
    if (v && v.length !== width) throw new InvalidOptionError(what, `${source}: ${what}.${name} has ${v.length} values, expected ${width}`);
  }
}

function describeType(a: unknown): string {
  return (a as object | null)?.constructor?.name ?? String(a);
}

function describeNormalization(n: Normalization): string {
  if (n.mean || n.invStd) return `standardized per feature`;
  return n.scale === 1 ? 'not normalized' : `scaled by ${n.scale === SCALE_TO_UNIT.scale ? '1/255' : n.scale}`;
}

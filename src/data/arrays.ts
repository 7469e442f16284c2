// Data sets from arrays in memory, the way a Node service holds its data: rows of numbers and a
// target per row (a class index, a class name, a value or a row of values). Everything is checked
// here, with the row and column of the first bad value, before it reaches shared memory.
import type { Task } from '../nn/spec.js';
import { Dataset, MAX_CLASSES, sharedLabels } from './dataset.js';
import { sharedBuffer } from '../util/shared-memory.js';
import { InvalidOptionError } from '../errors.js';

export interface ArraysInit {
  /** Rows of features: number[][], or a Float32Array of count × width values (give width). */
  x: ArrayLike<number>[] | Float32Array;
  /** Features per row, for a flat Float32Array x. */
  width?: number;
  /**
   * Targets, one per row: class indices (integers ≥ 0), class names (strings; mapped to indices in
   * sorted order, names kept), values (regression) or rows of values (regression with several
   * outputs, or multi-label 0/1 rows). Absent: a data set to predict on.
   */
  y?: ArrayLike<number> | readonly string[] | ArrayLike<number>[] | null;
  /** Default: classification for integer or string targets, regression for other numbers and rows, which multilabel may name instead. */
  task?: Task;
  /** Classes, for class indices (default: the largest + 1). */
  classes?: number;
  /** How the data is named in messages (default "arrays"). */
  source?: string;
}

export function datasetFromArrays(init: ArraysInit): Dataset {
  const source = init.source ?? 'arrays';
  const { images, count, width } = features(init, source);
  const base = { images, count, width, source };
  const y = init.y;
  if (y === undefined || y === null) return new Dataset({ ...base, labels: null });
  if (typeof y !== 'object' || typeof (y as ArrayLike<unknown>).length !== 'number')
    throw new InvalidOptionError('y', `${source}: y must be an array, got ${typeof y}`);
  if (y.length !== count) throw new InvalidOptionError('y', `${source}: y has ${y.length} rows but x has ${count}`);
  const first = count > 0 ? (y as ArrayLike<unknown>)[0] : 0;
  if (typeof first === 'string') {
    const names = y as readonly string[];
    const classNames = [
      ...new Set(
        names.map((name, r) => {
          if (typeof name !== 'string' || name === '')
            throw new InvalidOptionError('y', `${source}: y row ${r} is ${JSON.stringify(name)}, expected a class name like row 0's`);
          return name;
        }),
      ),
    ].sort();
    const index = new Map(classNames.map((name, c) => [name, c]));
    const labels = sharedLabels(count, classNames.length);
    for (let r = 0; r < count; r++) labels[r] = index.get(names[r])!;
    return new Dataset({ ...base, labels, classNames });
  }
  if (typeof first === 'object' && first !== null)
    return new Dataset({ ...base, ...targetRows(y as ArrayLike<number>[], count, source, init.task ?? 'regression') });
  const values = y as ArrayLike<number>;
  for (let r = 0; r < count; r++)
    if (typeof values[r] !== 'number' || !Number.isFinite(values[r]))
      throw new InvalidOptionError('y', `${source}: y row ${r} is ${String(values[r])}, not a finite number`);
  let integers = true;
  for (let r = 0; r < count && integers; r++) integers = Number.isInteger(values[r]) && values[r] >= 0;
  const task = init.task ?? (integers ? 'classification' : 'regression');
  if (task !== 'classification')
    return new Dataset({
      ...base,
      ...targetRows(
        Array.from(values, (v) => [v]),
        count,
        source,
        task,
      ),
    });
  let classes = 0;
  for (let r = 0; r < count; r++) {
    const v = values[r];
    if (!(Number.isInteger(v) && v >= 0 && v < MAX_CLASSES))
      throw new InvalidOptionError(
        'y',
        `${source}: y row ${r} is ${v}: class indices are integers from 0 to ${MAX_CLASSES - 1} (pass task: 'regression' for values)`,
      );
    if (init.classes !== undefined && v >= init.classes)
      throw new InvalidOptionError('y', `${source}: y row ${r} is class ${v}, outside the ${init.classes} classes given`);
    classes = Math.max(classes, v + 1);
  }
  const labels = sharedLabels(count, init.classes ?? classes);
  labels.set(values as ArrayLike<number>);
  return new Dataset({ ...base, labels, classes: init.classes ?? classes });
}

function features(init: ArraysInit, source: string): { images: Float32Array; count: number; width: number } {
  const { x } = init;
  if (x instanceof Float32Array) {
    const width = init.width;
    if (!(Number.isInteger(width) && width! >= 1))
      throw new InvalidOptionError('width', `${source}: a flat Float32Array x needs width, a positive integer; got ${width}`);
    if (x.length % width! !== 0) throw new InvalidOptionError('x', `${source}: x has ${x.length} values, not a whole number of rows of width ${width}`);
    const bad = x.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new InvalidOptionError('x', `${source}: x row ${Math.floor(bad / width!)} column ${bad % width!} is ${x[bad]}, not a finite number`);
    return { images: x, count: x.length / width!, width: width! };
  }
  if (!Array.isArray(x)) throw new InvalidOptionError('x', `${source}: x must be an array of rows or a Float32Array, got ${typeof x}`);
  if (x.length === 0) throw new InvalidOptionError('x', `${source}: x has no rows`);
  const width = x[0]?.length;
  if (!(Number.isInteger(width) && width >= 1)) throw new InvalidOptionError('x', `${source}: x row 0 must be a non-empty array of numbers`);
  if (init.width !== undefined && init.width !== width) throw new InvalidOptionError('x', `${source}: x row 0 has ${width} values but width is ${init.width}`);
  const images = new Float32Array(sharedBuffer(x.length * width * 4));
  x.forEach((row, r) => {
    if (row?.length !== width) throw new InvalidOptionError('x', `${source}: x row ${r} has ${row?.length ?? 'no'} values, expected ${width} (as row 0)`);
    for (let j = 0; j < width; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new InvalidOptionError('x', `${source}: x row ${r} column ${j} is ${String(v)}, not a finite number`);
      images[r * width + j] = v;
    }
  });
  return { images, count: x.length, width };
}

function targetRows(y: ArrayLike<number>[], count: number, source: string, task: Task): { labels: null; targets: Float32Array; task: Task } {
  if (task === 'classification')
    throw new InvalidOptionError('task', `${source}: rows of targets are values (regression) or 0/1 labels (multilabel), not task classification`);
  const k = y[0]?.length;
  if (!(Number.isInteger(k) && k >= 1)) throw new InvalidOptionError('y', `${source}: y row 0 must be a number or a non-empty array of numbers`);
  const targets = new Float32Array(sharedBuffer(count * k * 4));
  for (let r = 0; r < count; r++) {
    const row = y[r];
    if (row?.length !== k) throw new InvalidOptionError('y', `${source}: y row ${r} has ${row?.length ?? 'no'} values, expected ${k} (as row 0)`);
    for (let j = 0; j < k; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new InvalidOptionError('y', `${source}: y row ${r} column ${j} is ${String(v)}, not a finite number`);
      if (task === 'multilabel' && v !== 0 && v !== 1)
        throw new InvalidOptionError('y', `${source}: y row ${r} column ${j} is ${v}; multi-label targets are 0 or 1`);
      targets[r * k + j] = v;
    }
  }
  return { labels: null, targets, task };
}

// What the trainers need from a data set: sizes, and a gather of selected samples into the
// network's input (normalized float32) and target buffers.
import type { Task } from '../nn/spec.js';

export interface TrainingData {
  readonly count: number;
  /** Features per sample. */
  readonly width: number;
  /** Classes (classification), or target values per sample (regression, multi-label). */
  readonly classes: number;
  /** What the targets are; classification when absent. */
  readonly task?: Task;
  /**
   * Copies samples order[start .. start + count) into x (count × width) and y: one class label per
   * sample into an Int32Array (classification), count × classes values into a Float32Array otherwise.
   */
  gather(order: Int32Array, start: number, count: number, x: Float32Array, y: Int32Array | Float32Array): void;
  /** A hint that samples order[start .. start + count) are gathered soon (Dataset starts fetching them into the cache). */
  prefetch?(order: Int32Array, start: number, count: number): void;
  /** Throws a RangeError naming where the first label ≥ classes is stored (Dataset names the file and byte or row). */
  requireLabelsBelow?(classes: number, limit: string): void;
}

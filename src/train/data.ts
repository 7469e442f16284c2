// What the trainers need from a data set: sizes, and a gather of selected samples into the
// network's input (normalized float32) and label buffers.
export interface TrainingData {
  readonly count: number;
  /** Features per sample. */
  readonly width: number;
  readonly classes: number;
  /** Copies samples order[start .. start + count) into x (count × width) and labels (count). */
  gather(order: Int32Array, start: number, count: number, x: Float32Array, labels: Int32Array): void;
  /** A hint that samples order[start .. start + count) are gathered soon (Dataset starts fetching them into the cache). */
  prefetch?(order: Int32Array, start: number, count: number): void;
  /** Throws a RangeError naming where the first label ≥ classes is stored (Dataset names the file and byte or row). */
  requireLabelsBelow?(classes: number, limit: string): void;
}

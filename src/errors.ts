// The errors fcnn throws for what a caller or a user can get wrong, each with a stable `code` and
// the fields that say where: a program (or the CLI) decides by class or code, never by parsing the
// message, and the message stays free to improve. Aborts are the platform's: a training run given
// an AbortSignal rejects with the signal's reason (a DOMException named 'AbortError' by default).
// Native functions keep TypeError/RangeError for wrong arguments: those are programmer errors at
// the addon's boundary, which the library's own checks keep users from reaching.

export type FcnnErrorCode =
  | 'FCNN_INVALID_OPTION'
  | 'FCNN_DATA_FORMAT'
  | 'FCNN_MODEL_FILE'
  | 'FCNN_NON_FINITE'
  | 'FCNN_WORKER_FAILED'
  | 'FCNN_ENGINE_CLOSED'
  | 'FCNN_ENGINE_BUSY';

export abstract class FcnnError extends Error {
  abstract readonly code: FcnnErrorCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An option, argument or field whose value (or combination with another) cannot be right.
 * `option` is its name as the API spells it: 'batchSize', 'layers', 'valSplit', 'labels', …
 */
export class InvalidOptionError extends FcnnError {
  readonly code = 'FCNN_INVALID_OPTION';

  constructor(
    readonly option: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Where in a data file (or an in-memory data set, named by its description) the problem is. */
export interface DataLocation {
  /** The file's path, or the data set's description when it came from arrays. */
  file: string;
  /** 1-based line of a text file. */
  line?: number;
  /** 1-based column (field) of a CSV line. */
  column?: number;
  /** Byte offset in the file (of the line, in a text file; in the decompressed bytes of a .gz). */
  offset?: number;
}

/** Data that cannot be read as the format it claims, or whose samples do not fit together. */
export class DataFormatError extends FcnnError {
  readonly code = 'FCNN_DATA_FORMAT';
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly offset: number | undefined;

  constructor(where: DataLocation, message: string, options?: ErrorOptions) {
    super(message, options);
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.offset = where.offset;
  }
}

/** A model file that is missing, not an fcnn model, or whose tensor `tensor` does not fit its spec. */
export class ModelFileError extends FcnnError {
  readonly code = 'FCNN_MODEL_FILE';

  constructor(
    readonly file: string,
    message: string,
    readonly tensor?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface NonFiniteReport {
  /** 1-based layer number, or 0 for the loss itself. */
  layer: number;
  quantity: 'pre-activation' | 'loss' | 'gradient';
  /** Tensor name for gradients (e.g. layers.1.weight). */
  tensor?: string;
  /** Largest finite magnitude seen in the offending tensor (0 when none is finite). */
  maxFinite: number;
  /** How many values were NaN or infinite. */
  nonFinite: number;
}

/** Training met a NaN or an infinity (with nonFinite: 'stop'); the report says where first. */
export class NonFiniteError extends FcnnError {
  readonly code = 'FCNN_NON_FINITE';

  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly report: NonFiniteReport,
  ) {
    super(`epoch ${epoch} step ${step}: ${describeNonFinite(report)}`);
  }
}

export function describeNonFinite(r: NonFiniteReport): string {
  const symbol = r.quantity === 'pre-activation' ? 'z' : r.quantity === 'gradient' ? 'g' : 'loss';
  const where = r.quantity === 'loss' ? 'the loss' : r.tensor ? `${r.tensor} ${r.quantity}` : `layer ${r.layer} ${r.quantity}`;
  return `${where} is not finite (${r.nonFinite} NaN/Inf values; max finite |${symbol}| = ${r.maxFinite.toExponential(2)})`;
}

/**
 * A worker thread of data-parallel training failed: it threw, exited (process.exit inside it), or
 * was ended by its heap limit. The engine has released the other workers and ended every thread
 * by the time train() rejects with it; the cause is the worker's own error.
 */
export class WorkerFailedError extends FcnnError {
  readonly code = 'FCNN_WORKER_FAILED';

  constructor(
    /** The worker's index, from 0. */
    readonly worker: number,
    readonly workers: number,
    /** The training step it failed in (1-based over the run's epochs), or null outside a step. */
    readonly step: number | null,
    activity: string,
    cause: Error,
  ) {
    super(`data-parallel worker ${worker} of ${workers} failed ${activity}: ${cause.message}`, { cause });
  }
}

/** The engine was closed before or while it was asked to work. */
export class EngineClosedError extends FcnnError {
  readonly code = 'FCNN_ENGINE_CLOSED';
}

/** The engine was asked to start a command while another one runs. */
export class EngineBusyError extends FcnnError {
  readonly code = 'FCNN_ENGINE_BUSY';
}

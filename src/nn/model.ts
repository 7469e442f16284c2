// A model is its spec plus two slabs: trained parameters and saved buffers (BatchNorm running
// statistics). Both sit on SharedArrayBuffers so that worker threads read them without copies.
import { type DataSchema, defaultSchema } from '../data/schema.js';
import { InvalidOptionError } from '../errors.js';
import { ACTIVATIONS } from './activations.js';
import { type Init, initialize, parseInit } from './init.js';
import { type Layout, layoutOf } from './layout.js';
import { type ModelSpec, resolveSpec } from './spec.js';
import { sharedFloats } from '../util/shared-memory.js';

export interface ModelOptions {
  /** Weight initializer: 'he', 'glorot', 'lecun', '…-uniform', 'uniform:A'; default: the hidden activation's (He for rectifiers, Glorot otherwise). */
  init?: Init | string;
  /** Seed of the initializer (default 1). */
  seed?: number;
}

export class Model {
  readonly spec: ModelSpec;
  readonly layout: Layout;
  readonly params: Float32Array;
  readonly buffers: Float32Array;
  /** The data it was trained on, as far as inference needs it (set by train(); saved with the model). */
  schema: DataSchema = defaultSchema();

  /**
   * A model over existing slabs, without copying them: how a worker thread sees parameters that
   * live on the main thread's SharedArrayBuffer. Use createModel() or Model.fromArrays() otherwise.
   */
  constructor(spec: ModelSpec, params: Float32Array, buffers: Float32Array) {
    this.spec = resolveSpec(spec);
    this.layout = layoutOf(this.spec);
    if (params.length !== this.layout.paramCount)
      throw new InvalidOptionError('params', `params has ${params.length} values but the architecture needs ${this.layout.paramCount}`);
    if (buffers.length !== this.layout.bufferCount)
      throw new InvalidOptionError('buffers', `buffers has ${buffers.length} values but the architecture needs ${this.layout.bufferCount}`);
    this.params = params;
    this.buffers = buffers;
  }

  /** A model whose slabs are fresh shared copies of the given values (e.g. loaded from a file). */
  static fromArrays(spec: ModelSpec, params: ArrayLike<number>, buffers: ArrayLike<number>): Model {
    const p = sharedFloats(params.length);
    const b = sharedFloats(buffers.length);
    p.set(params);
    b.set(buffers);
    return new Model(spec, p, b);
  }

  get inputs(): number {
    return this.spec.layers[0];
  }

  get classes(): number {
    return this.spec.layers[this.spec.layers.length - 1];
  }

  /** The output width: classes, or target values per sample. */
  get outputs(): number {
    return this.spec.layers[this.spec.layers.length - 1];
  }

  /** A deep copy (parameters, buffers and schema included). */
  clone(): Model {
    const copy = Model.fromArrays(this.spec, this.params, this.buffers);
    copy.schema = this.schema;
    return copy;
  }
}

/** Builds a model and initializes its parameters. */
export function createModel(spec: Partial<ModelSpec> & { layers: number[] }, options: ModelOptions = {}): Model {
  const resolved = resolveSpec(spec);
  const layout = layoutOf(resolved);
  const model = new Model(resolved, sharedFloats(layout.paramCount), sharedFloats(layout.bufferCount));
  const init = typeof options.init === 'string' ? parseInit(options.init) : (options.init ?? defaultInit(model.spec));
  initialize(model.params, model.buffers, model.layout, init, options.seed ?? 1);
  return model;
}

/** The hidden activation's initializer (activations.ts), normal. */
export function defaultInit(spec: ModelSpec): Init {
  return { kind: ACTIVATIONS[spec.activation].init, distribution: 'normal' };
}

// A model is its spec plus two slabs: trained parameters and saved buffers (BatchNorm running
// statistics). Both sit on SharedArrayBuffers so that worker threads read them without copies.
import { type Init, initialize, parseInit } from './init.js';
import { type Layout, layoutOf } from './layout.js';
import { type ModelSpec, resolveSpec } from './spec.js';

export interface ModelOptions {
  /** Weight initializer: 'he' (default for relu/leaky_relu), 'glorot' (default otherwise), 'lecun', '…-uniform', 'uniform:A'. */
  init?: Init | string;
  /** Seed of the initializer (default 1). */
  seed?: number;
}

export class Model {
  readonly spec: ModelSpec;
  readonly layout: Layout;
  readonly params: Float32Array;
  readonly buffers: Float32Array;

  /** Wraps existing slabs (e.g. loaded from a file); they are copied onto shared memory. */
  constructor(spec: ModelSpec, params?: Float32Array, buffers?: Float32Array) {
    this.spec = resolveSpec(spec);
    this.layout = layoutOf(this.spec);
    this.params = sharedFloats(this.layout.paramCount);
    this.buffers = sharedFloats(this.layout.bufferCount);
    if (params) {
      if (params.length !== this.layout.paramCount)
        throw new RangeError(`params has ${params.length} values but the architecture needs ${this.layout.paramCount}`);
      this.params.set(params);
    }
    if (buffers) {
      if (buffers.length !== this.layout.bufferCount)
        throw new RangeError(`buffers has ${buffers.length} values but the architecture needs ${this.layout.bufferCount}`);
      this.buffers.set(buffers);
    }
  }

  /**
   * A model over existing slabs, without copying: how a worker thread sees the parameters that
   * live on a SharedArrayBuffer of the main thread.
   */
  static wrap(spec: ModelSpec, params: Float32Array, buffers: Float32Array): Model {
    const model = Object.create(Model.prototype) as { -readonly [K in keyof Model]: Model[K] };
    model.spec = resolveSpec(spec);
    model.layout = layoutOf(model.spec);
    if (params.length !== model.layout.paramCount || buffers.length !== model.layout.bufferCount)
      throw new RangeError(
        `slabs of ${params.length}/${buffers.length} values do not fit the architecture (${model.layout.paramCount}/${model.layout.bufferCount})`,
      );
    model.params = params;
    model.buffers = buffers;
    return model as Model;
  }

  get inputs(): number {
    return this.spec.layers[0];
  }

  get classes(): number {
    return this.spec.layers[this.spec.layers.length - 1];
  }

  /** A deep copy (parameters and buffers included). */
  clone(): Model {
    return new Model(this.spec, this.params, this.buffers);
  }
}

/** Builds a model and initializes its parameters. */
export function createModel(spec: Partial<ModelSpec> & { layers: number[] }, options: ModelOptions = {}): Model {
  const model = new Model(resolveSpec(spec));
  const init = typeof options.init === 'string' ? parseInit(options.init) : (options.init ?? defaultInit(model.spec));
  initialize(model.params, model.buffers, model.layout, init, options.seed ?? 1);
  return model;
}

export function defaultInit(spec: ModelSpec): Init {
  const reluLike = spec.activation === 'relu' || spec.activation === 'leaky_relu';
  return { kind: reluLike ? 'he' : 'glorot', distribution: 'normal' };
}

export function sharedFloats(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

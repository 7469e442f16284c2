// Weight initializers. The scale of the first weights decides whether activations keep a healthy
// spread through the layers: He for ReLU-like units, Glorot for tanh/sigmoid, LeCun for linear/SELU-like;
// uniform(−a, a) is kept for reproducing hand-written networks (it also draws the biases).
import { InvalidOptionError } from '../errors.js';
import { Random } from '../util/random.js';
import { type Layout, view } from './layout.js';

export type Init = { kind: 'he' | 'glorot' | 'lecun'; distribution: 'normal' | 'uniform' } | { kind: 'uniform'; limit: number };

/** Parses 'he', 'he-uniform', 'glorot', 'glorot-uniform', 'lecun', 'lecun-uniform', 'uniform:0.5'. */
export function parseInit(text: string): Init {
  const m = /^(he|glorot|xavier|kaiming|lecun)(-(normal|uniform))?$/.exec(text);
  if (m) {
    const kind = m[1] === 'xavier' ? 'glorot' : m[1] === 'kaiming' ? 'he' : (m[1] as 'he' | 'glorot' | 'lecun');
    return { kind, distribution: (m[3] as 'normal' | 'uniform' | undefined) ?? 'normal' };
  }
  const u = /^uniform:(.+)$/.exec(text);
  if (u) {
    const limit = Number(u[1]);
    if (!(Number.isFinite(limit) && limit > 0)) throw new InvalidOptionError('init', `init uniform:A needs a positive limit A, got ${u[1]}`);
    return { kind: 'uniform', limit };
  }
  throw new InvalidOptionError('init', `init must be he, he-uniform, glorot, glorot-uniform, lecun, lecun-uniform or uniform:A, got ${JSON.stringify(text)}`);
}

export function formatInit(init: Init): string {
  return init.kind === 'uniform' ? `uniform:${init.limit}` : init.distribution === 'normal' ? init.kind : `${init.kind}-uniform`;
}

/** Standard deviation the scheme gives a weight of a layer with these fan-in and fan-out. */
export function initStd(init: Init, fanIn: number, fanOut: number): number {
  switch (init.kind) {
    case 'he':
      return Math.sqrt(2 / fanIn);
    case 'glorot':
      return Math.sqrt(2 / (fanIn + fanOut));
    case 'lecun':
      return Math.sqrt(1 / fanIn);
    case 'uniform':
      return init.limit / Math.sqrt(3);
  }
}

/** Fills the parameter slab: weights by the scheme, biases zero (uniform: drawn too), norm gamma 1 / beta 0. */
export function initialize(params: Float32Array, buffers: Float32Array, layout: Layout, init: Init, seed: number): void {
  const rng = new Random(seed);
  for (const layer of layout.layers) {
    const w = view(params, layer.weight);
    const b = view(params, layer.bias);
    if (init.kind === 'uniform') {
      for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * init.limit;
      for (let i = 0; i < b.length; i++) b[i] = (2 * rng.uniform() - 1) * init.limit;
    } else {
      const std = initStd(init, layer.inputs, layer.outputs);
      if (init.distribution === 'normal') for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
      else for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * std * Math.sqrt(3);
      b.fill(0);
    }
    if (layer.norm) {
      view(params, layer.norm.weight).fill(1);
      view(params, layer.norm.bias).fill(0);
      if (layer.norm.runningMean) view(buffers, layer.norm.runningMean).fill(0);
      if (layer.norm.runningVar) view(buffers, layer.norm.runningVar).fill(1);
    }
  }
}

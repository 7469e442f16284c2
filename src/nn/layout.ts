// Where every tensor lives. All parameters share one contiguous slab (and so do their gradients
// and the optimizer's state), all non-trained buffers (BatchNorm running statistics) another:
// averaging, an optimizer step, saving or an allreduce each touch one buffer (llm.c's layout).
import type { ModelSpec } from './spec.js';

export interface TensorInfo {
  /** PyTorch-style name: layers.0.weight, layers.0.bias, layers.0.norm.weight, layers.0.norm.running_mean … */
  name: string;
  shape: number[];
  /** Offset in elements into the slab. */
  offset: number;
  size: number;
}

export interface DenseLayout {
  inputs: number;
  outputs: number;
  /** outputs × inputs, row-major: y = x·Wᵀ + b. */
  weight: TensorInfo;
  bias: TensorInfo;
  /** Present on hidden layers when spec.norm is 'layer' or 'batch'. */
  norm?: { weight: TensorInfo; bias: TensorInfo; runningMean?: TensorInfo; runningVar?: TensorInfo };
}

export interface Layout {
  layers: DenseLayout[];
  /** Trained tensors, in slab order. */
  params: TensorInfo[];
  paramCount: number;
  /** Buffers that are saved but not trained (BatchNorm running statistics), in slab order. */
  buffers: TensorInfo[];
  bufferCount: number;
}

export function layoutOf(spec: ModelSpec): Layout {
  const params = slab();
  const buffers = slab();
  const param = params.add;
  const buffer = buffers.add;

  const layers: DenseLayout[] = [];
  const last = spec.layers.length - 2;
  for (let i = 0; i <= last; i++) {
    const inputs = spec.layers[i];
    const outputs = spec.layers[i + 1];
    const layer: DenseLayout = {
      inputs,
      outputs,
      weight: param(`layers.${i}.weight`, [outputs, inputs]),
      bias: param(`layers.${i}.bias`, [outputs]),
    };
    if (i < last && spec.norm !== 'none') {
      layer.norm = { weight: param(`layers.${i}.norm.weight`, [outputs]), bias: param(`layers.${i}.norm.bias`, [outputs]) };
      if (spec.norm === 'batch') {
        layer.norm.runningMean = buffer(`layers.${i}.norm.running_mean`, [outputs]);
        layer.norm.runningVar = buffer(`layers.${i}.norm.running_var`, [outputs]);
      }
    }
    layers.push(layer);
  }
  return { layers, params: params.tensors, paramCount: params.size(), buffers: buffers.tensors, bufferCount: buffers.size() };
}

/** Tensors laid out one after another in one slab. */
function slab() {
  const tensors: TensorInfo[] = [];
  let size = 0;
  return {
    tensors,
    size: () => size,
    add(name: string, shape: number[]): TensorInfo {
      const t = { name, shape, offset: size, size: shape.reduce((a, b) => a * b, 1) };
      size += t.size;
      tensors.push(t);
      return t;
    },
  };
}

/** A view of one tensor inside its slab. */
export function view(slab: Float32Array, t: TensorInfo): Float32Array {
  return slab.subarray(t.offset, t.offset + t.size);
}

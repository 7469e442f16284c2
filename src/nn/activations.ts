// Hidden activations and output heads as native activation codes. A new activation is one entry
// here and one case in native/kernels/activations.cc.
import { ActivationCode } from '../native.js';
import type { HiddenActivation, ModelSpec, Output } from './spec.js';

export interface ActivationFn {
  code: ActivationCode;
  /** LeakyReLU's negative slope, or the sigmoid's input scale; unused otherwise. */
  alpha: number;
}

const CODES: Record<HiddenActivation, ActivationCode> = {
  linear: ActivationCode.Linear,
  relu: ActivationCode.Relu,
  leaky_relu: ActivationCode.LeakyRelu,
  tanh: ActivationCode.Tanh,
  sigmoid: ActivationCode.Sigmoid,
};

export function hiddenActivation(spec: ModelSpec): ActivationFn {
  const code = CODES[spec.activation];
  const alpha = spec.activation === 'leaky_relu' ? spec.leakySlope : spec.activation === 'sigmoid' ? spec.sigmoidAlpha : 0;
  return { code, alpha };
}

/** The elementwise part of an output head (softmax is fused with its loss instead). */
export function headActivation(output: Exclude<Output, 'softmax'>, spec: ModelSpec): ActivationFn {
  return output === 'sigmoid'
    ? { code: ActivationCode.Sigmoid, alpha: spec.sigmoidAlpha }
    : { code: ActivationCode.Linear, alpha: 0 };
}

// Plain SGD and SGD with (optionally Nesterov) momentum, PyTorch's conventions.
import { native } from '../native.js';
import type { OptimizerConfig, UpdateRule } from './optimizer.js';

export const sgd: UpdateRule<Extract<OptimizerConfig, { kind: 'sgd' }>> = {
  stateSlabs: 0,
  update(c, params, grads, _state, lr) {
    native.sgdStep(params, grads, lr, c.weightDecay);
  },
};

export const momentum: UpdateRule<Extract<OptimizerConfig, { kind: 'momentum' }>> = {
  stateSlabs: 1,
  update(c, params, grads, [velocity], lr) {
    native.momentumStep(params, grads, velocity, lr, c.momentum, c.weightDecay, c.nesterov);
  },
};

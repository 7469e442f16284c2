// Adam, and AdamW (decoupled weight decay), with bias-corrected moments.
import { native } from '../native.js';
import type { OptimizerConfig, UpdateRule } from './optimizer.js';

export const adam: UpdateRule<Extract<OptimizerConfig, { kind: 'adam' | 'adamw' }>> = {
  stateSlabs: 2,
  update(c, params, grads, [m, v], lr, step) {
    native.adamStep(params, grads, m, v, lr, c.beta1, c.beta2, c.eps, c.weightDecay, c.kind === 'adamw', step);
  },
};

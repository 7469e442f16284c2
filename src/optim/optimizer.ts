// An optimizer is a configuration (plain data, so it crosses into worker threads) plus an update
// rule over a flat slice of the parameter slab. Its state (velocity, Adam moments) is a number of
// slabs laid out like the parameters, so a worker can update any 1/W slice on its own.
import { InvalidOptionError } from '../errors.js';
import { adam } from './adam.js';
import { momentum, sgd } from './sgd.js';

export type OptimizerConfig =
  | { kind: 'sgd'; weightDecay: number }
  | { kind: 'momentum'; momentum: number; nesterov: boolean; weightDecay: number }
  | { kind: 'adam' | 'adamw'; beta1: number; beta2: number; eps: number; weightDecay: number };

export type OptimizerName = OptimizerConfig['kind'];
export const OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'momentum', 'adam', 'adamw'];

export interface UpdateRule<C extends OptimizerConfig = OptimizerConfig> {
  /** How many state slabs (each as long as the parameters) the rule keeps. */
  stateSlabs: number;
  /** Updates params in place from grads; state holds views of the same slice; step counts from 1. */
  update(config: C, params: Float32Array, grads: Float32Array, state: Float32Array[], lr: number, step: number): void;
}

const RULES: { [K in OptimizerName]: UpdateRule<Extract<OptimizerConfig, { kind: K }>> } = {
  sgd,
  momentum,
  adam,
  adamw: adam,
};

export function updateRule(config: OptimizerConfig): UpdateRule {
  return RULES[config.kind] as UpdateRule;
}

/** Fills defaults (PyTorch's) and checks every field, naming it in the error. */
/** What a caller may give: a name, or a name with any of the hyper-parameters. */
export interface OptimizerOptions {
  kind: OptimizerName;
  weightDecay?: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Fills defaults (PyTorch's) and checks every field, naming it in the error. */
export function resolveOptimizer(input: OptimizerName | OptimizerOptions): OptimizerConfig {
  const o: OptimizerOptions = typeof input === 'string' ? { kind: input } : input;
  if (!OPTIMIZERS.includes(o.kind))
    throw new InvalidOptionError('optimizer', `optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${JSON.stringify(o.kind)}`);
  const weightDecay = check('weightDecay', o.weightDecay ?? (o.kind === 'adamw' ? 0.01 : 0), 0, Infinity);
  switch (o.kind) {
    case 'sgd':
      return { kind: 'sgd', weightDecay };
    case 'momentum':
      return {
        kind: 'momentum',
        momentum: check('momentum', o.momentum ?? 0.9, 0, 1, true),
        nesterov: o.nesterov ?? false,
        weightDecay,
      };
    default:
      return {
        kind: o.kind,
        beta1: check('beta1', o.beta1 ?? 0.9, 0, 1, true),
        beta2: check('beta2', o.beta2 ?? 0.999, 0, 1, true),
        eps: check('eps', o.eps ?? 1e-8, 0, Infinity, true),
        weightDecay,
      };
  }
}

function check(name: string, value: number, min: number, max: number, openEnds = false): number {
  const ok = Number.isFinite(value) && (openEnds ? value > min && value < max : value >= min && value < max);
  if (!ok) throw new InvalidOptionError(name, `${name} must be in ${openEnds ? '(' : '['}${min}, ${max}), got ${value}`);
  return value;
}

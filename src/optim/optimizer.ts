// An optimizer is a configuration (plain data, so it crosses into worker threads) plus an update
// rule over a flat slice of the parameter slab. Its state (velocity, Adam moments) is a number of
// slabs laid out like the parameters, so a worker can update any 1/W slice on its own. Each
// optimizer is one entry of OPTIMIZER_TABLE: its rule, its defaults, and how its options resolve.
import { InvalidOptionError } from '../errors.js';
import { adam } from './adam.js';
import { momentum, sgd } from './sgd.js';

export type OptimizerConfig =
  | { kind: 'sgd'; weightDecay: number }
  | { kind: 'momentum'; momentum: number; nesterov: boolean; weightDecay: number }
  | ({ kind: 'adam' } & AdamHyper)
  | ({ kind: 'adamw' } & AdamHyper);

interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export type OptimizerName = OptimizerConfig['kind'];

export interface UpdateRule<C extends OptimizerConfig = OptimizerConfig> {
  /** How many state slabs (each as long as the parameters) the rule keeps. */
  stateSlabs: number;
  /** Updates params in place from grads; state holds views of the same slice; step counts from 1. */
  update(config: C, params: Float32Array, grads: Float32Array, state: Float32Array[], lr: number, step: number): void;
}

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

interface OptimizerDef<K extends OptimizerName> {
  rule: UpdateRule<Extract<OptimizerConfig, { kind: K }>>;
  /** The learning rate when the caller gives none. */
  lr: number;
  weightDecay: number;
  /** The configuration from the caller's options (defaults PyTorch's), every field checked. */
  resolve(o: OptimizerOptions, weightDecay: number): Extract<OptimizerConfig, { kind: K }>;
  /** Its settings beyond the name and weight decay, for people ('0.9 (Nesterov)'); '' if none. */
  settings(c: Extract<OptimizerConfig, { kind: K }>): string;
  /**
   * How many times lr·g a step can become (momentum accumulates up to 1/(1 − μ) of it), for the
   * diagnostics' update-size check; null for adaptive optimizers, whose steps lr·g does not describe.
   */
  stepScale(c: Extract<OptimizerConfig, { kind: K }>): number | null;
}

const OPTIMIZER_TABLE: { [K in OptimizerName]: OptimizerDef<K> } = {
  sgd: { rule: sgd, lr: 0.1, weightDecay: 0, resolve: (_, weightDecay) => ({ kind: 'sgd', weightDecay }), settings: () => '', stepScale: () => 1 },
  momentum: {
    rule: momentum,
    lr: 0.05,
    weightDecay: 0,
    resolve: (o, weightDecay) => ({
      kind: 'momentum',
      momentum: check('momentum', o.momentum ?? 0.9, 0, 1, true),
      nesterov: o.nesterov ?? false,
      weightDecay,
    }),
    settings: (c) => `${c.momentum}${c.nesterov ? ' (Nesterov)' : ''}`,
    stepScale: (c) => 1 / (1 - c.momentum),
  },
  adam: {
    rule: adam,
    lr: 0.001,
    weightDecay: 0,
    resolve: (o, weightDecay) => ({ kind: 'adam', ...adamHyper(o), weightDecay }),
    settings: () => '',
    stepScale: () => null,
  },
  // Decoupled weight decay is what AdamW is for: it has some by default.
  adamw: {
    rule: adam,
    lr: 0.001,
    weightDecay: 0.01,
    resolve: (o, weightDecay) => ({ kind: 'adamw', ...adamHyper(o), weightDecay }),
    settings: () => '',
    stepScale: () => null,
  },
};

export const OPTIMIZERS = Object.keys(OPTIMIZER_TABLE) as OptimizerName[];

export function updateRule(config: OptimizerConfig): UpdateRule {
  return OPTIMIZER_TABLE[config.kind].rule as UpdateRule;
}

/** The learning rate an optimizer trains with when none is given. */
export function defaultLr(kind: OptimizerName): number {
  return OPTIMIZER_TABLE[kind].lr;
}

/** The optimizer for people: 'momentum 0.9 (Nesterov), weight decay 0.0005'. */
export function describeOptimizer(c: OptimizerConfig): string {
  const settings = (OPTIMIZER_TABLE[c.kind] as { settings(c: OptimizerConfig): string }).settings(c);
  return `${c.kind}${settings && ` ${settings}`}${c.weightDecay ? `, weight decay ${c.weightDecay}` : ''}`;
}

/** See OptimizerDef.stepScale. */
export function stepScale(c: OptimizerConfig): number | null {
  return (OPTIMIZER_TABLE[c.kind] as { stepScale(c: OptimizerConfig): number | null }).stepScale(c);
}

/** Fills defaults (PyTorch's) and checks every field, naming it in the error. */
export function resolveOptimizer(input: OptimizerName | OptimizerOptions): OptimizerConfig {
  const o: OptimizerOptions = typeof input === 'string' ? { kind: input } : input;
  if (!OPTIMIZERS.includes(o.kind))
    throw new InvalidOptionError('optimizer', `optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${JSON.stringify(o.kind)}`);
  const def: { weightDecay: number; resolve(o: OptimizerOptions, weightDecay: number): OptimizerConfig } = OPTIMIZER_TABLE[o.kind];
  return def.resolve(o, check('weightDecay', o.weightDecay ?? def.weightDecay, 0, Infinity));
}

function adamHyper(o: OptimizerOptions): Omit<AdamHyper, 'weightDecay'> {
  return {
    beta1: check('beta1', o.beta1 ?? 0.9, 0, 1, true),
    beta2: check('beta2', o.beta2 ?? 0.999, 0, 1, true),
    eps: check('eps', o.eps ?? 1e-8, 0, Infinity, true),
  };
}

function check(name: string, value: number, min: number, max: number, openEnds = false): number {
  const ok = Number.isFinite(value) && (openEnds ? value > min && value < max : value >= min && value < max);
  if (!ok) throw new InvalidOptionError(name, `${name} must be in ${openEnds ? '(' : '['}${min}, ${max}), got ${value}`);
  return value;
}

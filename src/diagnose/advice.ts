// Plain-language warnings from the layer statistics: each names the layer, the number that is out
// of its healthy range, what that does to training, and what usually fixes it.
import { type Init, initStd } from '../nn/init.js';
import { defaultInit } from '../nn/model.js';
import type { ModelSpec } from '../nn/spec.js';
import { type OptimizerConfig, stepScale } from '../optim/optimizer.js';
import type { NetworkStats } from './stats.js';

export interface AdviceContext {
  spec: ModelSpec;
  optimizer: OptimizerConfig;
}

/** Weights whose std is this many times the recommended one (or its inverse) are flagged. */
const INIT_RATIO = 2.5;
const SATURATED = 0.5;
/** Below this mean slope, a sigmoid/tanh layer divides the gradient by more than 20. */
const FLAT_SLOPE = 0.05;
const DEAD = 0.25;
const EXPLODING_GRADIENT = 1e3;
/** The gradient norm shrinking by more than this from the output layer to the first. */
const VANISHING_SPAN = 1e4;
const TINY_UPDATE = 1e-5;
/** Steps of a tenth of the weights, as at the peak of the recommended preset's warm-up, still train well. */
const HUGE_UPDATE = 0.2;

export function advise(stats: NetworkStats, context: AdviceContext): string[] {
  const { spec, optimizer } = context;
  const recommended = defaultInit(spec);
  const warnings: string[] = [];
  const last = stats.layers.length;
  for (const L of stats.layers) {
    const name = `layer ${L.layer} (${L.activation})`;
    const head = L.layer === last;

    // The init is judged by the weights it drew: trained weights may rightly grow past it.
    const expected = initStd(recommended, L.inputs, L.outputs);
    const ratio = L.initialWeightStd / expected;
    if (ratio > INIT_RATIO || ratio < 1 / INIT_RATIO) {
      const wide = ratio > 1;
      warnings.push(
        `layer ${L.layer}: weights' std ${fmt(L.initialWeightStd)} is ${wide ? `${fmt(ratio, 2)}×` : `1/${fmt(1 / ratio, 2)} of`} ` +
          `${initName(recommended)}'s ${fmt(expected)} for fan-in ${L.inputs} at initialization — ` +
          `${wide ? 'pre-activations start too large' : 'signals shrink layer by layer'}; use --init ${initFlag(recommended)}`,
      );
    }

    const fix = head ? 'use softmax + cross-entropy' : `use relu, or a narrower init (--init ${initFlag(recommended)})`;
    if (L.saturatedFraction !== null && L.saturatedFraction > SATURATED) {
      warnings.push(`${name}: ${pct(L.saturatedFraction)} of outputs saturated; gradients vanish — ${fix}`);
    } else if (L.meanSlope !== null && L.meanSlope < FLAT_SLOPE) {
      const alpha = L.activation === 'sigmoid' && spec.sigmoidAlpha !== 1 ? ` (sigmoid-alpha ${spec.sigmoidAlpha})` : '';
      warnings.push(`${name}: the mean slope f'(z) is ${fmt(L.meanSlope)}${alpha}, so every gradient through it shrinks ${fmt(1 / L.meanSlope, 2)}× — ${fix}`);
    }

    if (L.deadFraction !== null && L.deadFraction > DEAD)
      warnings.push(
        `${name}: ${pct(L.deadFraction)} of units are dead (zero for all ${stats.samples} samples) and no longer learn — ` +
          'lower the learning rate, use leaky_relu, or He init',
      );

    if (!Number.isFinite(L.gradNorm)) warnings.push(`${name}: the gradient is not finite`);
    else if (L.gradNorm > EXPLODING_GRADIENT)
      warnings.push(`${name}: gradient norm ${fmt(L.gradNorm)} is exploding — lower the learning rate, use normalization (--norm layer) or a narrower init`);
  }

  const first = stats.layers[0];
  const out = stats.layers[last - 1];
  if (last > 1 && first.gradNorm > 0 && out.gradNorm / first.gradNorm > VANISHING_SPAN)
    warnings.push(
      `gradients vanish toward the input: norm ${fmt(out.gradNorm)} at layer ${last}, ${fmt(first.gradNorm)} at layer 1 — ` +
        'use relu with He init, or normalization (--norm layer)',
    );
  else if (first.gradNorm === 0) warnings.push('layer 1: the gradient is exactly zero — nothing below the output learns');

  // lr·‖g‖/‖W‖ is the step of plain gradient descent (momentum multiplies it by up to 1/(1 − μ));
  // adaptive optimizers rescale every parameter, so the ratio says nothing about their steps.
  const factor = stepScale(optimizer);
  if (factor !== null) {
    for (const L of stats.layers) {
      const step = L.updateRatio * factor;
      if (step < TINY_UPDATE)
        warnings.push(
          `layer ${L.layer}: updates are tiny (lr·|g|/|W| = ${fmt(step)}, healthy ≈ 1e-3) — the weights barely move; ` +
            'raise the learning rate or remove what makes the gradient vanish',
        );
      else if (step > HUGE_UPDATE) warnings.push(`layer ${L.layer}: updates are huge (lr·|g|/|W| = ${fmt(step)}, healthy ≈ 1e-3) — lower the learning rate`);
    }
  }
  return warnings;
}

function initName(init: Init): string {
  return init.kind === 'he' ? 'He' : init.kind === 'glorot' ? 'Glorot' : init.kind === 'lecun' ? 'LeCun' : 'uniform';
}

function initFlag(init: Init): string {
  return init.kind === 'uniform' ? `uniform:${init.limit}` : init.kind;
}

/** Two significant digits, or exponent notation for very small or large values. */
export function fmt(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return Number(v.toPrecision(digits)).toExponential();
  return Number(v.toPrecision(digits)).toString();
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

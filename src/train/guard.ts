// The non-finite guard: finds the first layer whose values stopped being numbers, so that training
// stops with "epoch 3 step 17: layer 2 pre-activation is not finite (max |z| = 3.4e38)" instead of
// continuing on garbage.
import { native } from '../native.js';
import type { Layout } from '../nn/layout.js';
import type { Network } from '../nn/network.js';
import type { NonFiniteReport } from '../errors.js';

/** After a forward pass over `rows`: the first layer with a non-finite pre-activation, or the loss. */
export function inspectForward(net: Network, rows: number, lossSum: number): NonFiniteReport | null {
  for (let i = 0; i < net.layers.length; i++) {
    const L = net.layers[i];
    const n = rows * L.dense.outputs;
    if (!Number.isFinite(native.maxAbs(L.z, n))) return { layer: i + 1, quantity: 'pre-activation', ...census(L.z, n) };
  }
  if (!Number.isFinite(lossSum)) return { layer: 0, quantity: 'loss', maxFinite: 0, nonFinite: 1 };
  return null;
}

/**
 * The first parameter tensor whose gradient is not finite. `grads` is the whole gradient slab or a
 * worker's slice of it starting at element `offset`.
 */
export function inspectGradients(grads: Float32Array, layout: Layout, offset = 0): NonFiniteReport | null {
  if (Number.isFinite(native.maxAbs(grads, grads.length))) return null;
  for (const t of layout.params) {
    const lo = Math.max(0, t.offset - offset);
    const hi = Math.min(grads.length, t.offset + t.size - offset);
    if (lo >= hi) continue;
    const part = grads.subarray(lo, hi);
    if (!Number.isFinite(native.maxAbs(part, part.length))) {
      const layer = Number(/^layers\.(\d+)\./.exec(t.name)?.[1] ?? -1) + 1;
      return { layer, quantity: 'gradient', tensor: t.name, ...census(part, part.length) };
    }
  }
  return null;
}

/** Only on the error path: plain loop over the offending tensor (or a worker's rows of it). */
export function census(x: Float32Array, n: number): { maxFinite: number; nonFinite: number } {
  let maxFinite = 0;
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(x[i]);
    if (Number.isFinite(v)) maxFinite = Math.max(maxFinite, v);
    else nonFinite++;
  }
  return { maxFinite, nonFinite };
}

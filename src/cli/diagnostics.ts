// Layer diagnostics for a person: a table of the statistics and the warnings under it.
import { fmt } from '../diagnose/advice.js';
import type { LayerStats, NetworkStats } from '../diagnose/stats.js';
import type { Output } from './output.js';

export function printDiagnostics(out: Output, epoch: number, stats: NetworkStats, warnings: string[]): void {
  const header = ['layer', 'units', 'z mean', 'z std', 'max|z|', 'a mean', 'a std', 'dead', 'saturated', 'w std', '|grad|', 'lr·|g|/|W|'];
  const rows = stats.layers.map((L) => [
    `${L.layer} ${L.activation}`,
    String(L.outputs),
    fmt(L.preActivation.mean),
    fmt(L.preActivation.std),
    fmt(L.preActivation.maxAbs),
    fmt(L.activationStats.mean),
    fmt(L.activationStats.std),
    L.deadFraction === null ? '—' : `${Math.round(L.deadFraction * 100)}%`,
    L.saturatedFraction === null ? '—' : `${Math.round(L.saturatedFraction * 100)}%`,
    fmt(L.weightStd),
    fmt(L.gradNorm),
    fmt(L.updateRatio),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `  ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}`;
  out.line(`diagnostics after epoch ${epoch} (${stats.samples} training samples, loss ${fmt(stats.loss, 4)}):`);
  out.line(line(header));
  rows.forEach((r) => out.line(line(r)));
  for (const w of warnings) out.line(`  warning: ${w}`);
}

/** The JSON form of a layer's statistics: everything but the histograms. */
export function layerSummary(L: LayerStats): Omit<LayerStats, 'activationHistogram' | 'gradientHistogram'> {
  const { activationHistogram: _activations, gradientHistogram: _gradients, ...rest } = L;
  return rest;
}

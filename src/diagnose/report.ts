// A training run as a folder of charts: loss and accuracy per epoch, per-layer histograms of
// activations and weight gradients at the first and last examined epoch, the confusion matrix,
// each as the SVG Vega drew and the PNG rasterized from it, and an index.html that shows them
// next to the run's configuration and the diagnostics' warnings.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EpochEvent } from '../train/options.js';
import type { Evaluation } from '../api/evaluate.js';
import { type ChartSpec, fontWarning, writeChart } from './render.js';
import type { Histogram, NetworkStats } from './stats.js';

export interface Diagnostics {
  epoch: number;
  stats: NetworkStats;
  warnings: string[];
}

export interface ReportInput {
  /** The command line that ran. */
  title: string;
  config: Record<string, string | number | boolean | null>;
  epochs: EpochEvent[];
  /** What the per-epoch evaluation ran on. */
  evalRole: 'test' | 'validation';
  /** In epoch order; the first and the last are charted. */
  diagnostics: Diagnostics[];
  evaluation: Evaluation | null;
  /** Regression: the held-out set's true and predicted values (rows × outputs, in the targets' units), charted against each other. */
  predictions?: { actual: ArrayLike<number>; predicted: ArrayLike<number>; outputs: string[] } | null;
}

export interface ReportFiles {
  /** Every file written, relative to the folder. */
  files: string[];
  /** Problems that make the report incomplete (e.g. no font for the text). */
  warnings: string[];
}

export async function writeReport(dir: string, run: ReportInput): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const charts: { title: string; svg: string; png: string }[] = [];
  const chart = async (base: string, title: string, spec: ChartSpec) => charts.push({ title, ...(await writeChart(dir, base, spec)) });

  await chart('loss', 'Loss per epoch', perEpochChart(run, 'loss'));
  if (run.predictions) await chart('r2', 'R² per epoch', perEpochChart(run, 'r2'));
  else await chart('accuracy', 'Accuracy per epoch', perEpochChart(run, 'accuracy'));
  if (run.diagnostics.length) {
    const shown = [run.diagnostics[0], run.diagnostics[run.diagnostics.length - 1]].filter((d, i, all) => all.indexOf(d) === i);
    await chart('activations', 'Activations per layer', histogramChart(shown, 'activations'));
    await chart('gradients', 'Weight gradients per layer', histogramChart(shown, 'gradients'));
  }
  if (run.predictions) await chart('predicted', `Predicted against true values (${run.evalRole} set)`, predictedChart(run.predictions));
  else if (run.evaluation?.confusion.length) await chart('confusion', `Confusion matrix (${run.evalRole} set)`, confusionChart(run.evaluation, run.evalRole));

  await writeFile(join(dir, 'index.html'), indexHtml(run, charts));
  const warning = fontWarning();
  return { files: [...charts.flatMap((c) => [c.svg, c.png]), 'index.html'], warnings: warning ? [warning] : [] };
}

function perEpochChart(run: ReportInput, quantity: 'loss' | 'accuracy' | 'r2'): ChartSpec {
  const values = run.epochs.flatMap((e) => {
    const train = quantity === 'loss' ? e.loss : quantity === 'accuracy' ? e.trainAccuracy : null;
    const held = quantity === 'loss' ? e.testLoss : quantity === 'accuracy' ? e.testAccuracy : (e.testR2 ?? null);
    return [
      ...(train === null ? [] : [{ epoch: e.epoch, set: 'train', value: train }]),
      ...(held === null ? [] : [{ epoch: e.epoch, set: run.evalRole, value: held }]),
    ];
  });
  return {
    title: quantity === 'loss' ? 'Loss' : quantity === 'accuracy' ? 'Accuracy' : 'R²',
    width: 480,
    height: 280,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, scale: { domainMin: 1 } },
      y: {
        field: 'value',
        type: 'quantitative',
        title: quantity,
        scale: { zero: false },
        ...(quantity === 'accuracy' && { axis: { format: '.1%' } }),
      },
      color: { field: 'set', type: 'nominal', title: null, legend: { orient: 'bottom' } },
    },
  };
}

/** Each held-out value's prediction against its true value, with the diagonal where they agree. */
function predictedChart(p: NonNullable<ReportInput['predictions']>): ChartSpec {
  const k = p.outputs.length;
  const values = Array.from({ length: p.actual.length }, (_, i) => ({ actual: p.actual[i], predicted: p.predicted[i], output: p.outputs[i % k] }));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v.actual, v.predicted);
    hi = Math.max(hi, v.actual, v.predicted);
  }
  const axis = { type: 'quantitative' as const, scale: { domain: [lo, hi] } };
  return {
    title: 'Predicted against true',
    width: 360,
    height: 360,
    layer: [
      {
        data: {
          values: [
            { actual: lo, predicted: lo },
            { actual: hi, predicted: hi },
          ],
        },
        mark: { type: 'line', color: '#bbb' },
        encoding: { x: { field: 'actual', ...axis }, y: { field: 'predicted', ...axis } },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 12, opacity: 0.6 },
        encoding: {
          x: { field: 'actual', title: 'true', ...axis },
          y: { field: 'predicted', title: 'predicted', ...axis },
          ...(k > 1 && { color: { field: 'output', type: 'nominal', title: null, legend: { orient: 'bottom' } } }),
        },
      },
    ],
  };
}

/** One row of small histograms per layer, one column per examined epoch. */
function histogramChart(shown: Diagnostics[], kind: 'activations' | 'gradients'): ChartSpec {
  const values = shown.flatMap((d) =>
    d.stats.layers.flatMap((L) => {
      const h: Histogram = kind === 'activations' ? L.activationHistogram : L.gradientHistogram;
      const width = (h.max - h.min) / h.counts.length;
      return h.counts.map((count, b) => ({
        layer: `layer ${L.layer} (${L.activation})`,
        epoch: `epoch ${d.epoch}`,
        from: h.min + b * width,
        to: h.min + (b + 1) * width,
        count,
      }));
    }),
  );
  return {
    title: kind === 'activations' ? 'Activations (outputs of each layer)' : 'Weight gradients dL/dW',
    data: { values },
    facet: {
      row: { field: 'layer', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left' } },
      column: { field: 'epoch', type: 'nominal', title: null, sort: shown.map((d) => `epoch ${d.epoch}`) },
    },
    spec: {
      width: 260,
      height: 110,
      mark: { type: 'rect', color: kind === 'activations' ? '#4c78a8' : '#e45756' },
      encoding: {
        x: { field: 'from', type: 'quantitative', title: kind === 'activations' ? 'value' : 'gradient', scale: { zero: false }, axis: { labelOverlap: true } },
        x2: { field: 'to' },
        // Log-like counts: a ReLU layer's spike of zeros would flatten everything else.
        y: {
          field: 'count',
          type: 'quantitative',
          title: 'count (log)',
          scale: { type: 'symlog' },
          axis: { values: [0, 1, 10, 100, 1000, 10000, 100000, 1000000], format: ',d' },
        },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
}

function confusionChart(e: Evaluation, role: string): ChartSpec {
  const values = e.confusion.flatMap((row, actual) => row.map((count, predicted) => ({ actual, predicted, count })));
  const size = Math.max(240, 32 * e.confusion.length);
  return {
    title: `Confusion matrix: ${e.count} ${role} samples, accuracy ${(e.accuracy * 100).toFixed(2)}%`,
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', title: 'predicted class', axis: { labelAngle: 0 } },
      y: { field: 'actual', type: 'ordinal', title: 'true class' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { type: 'symlog', scheme: 'blues' }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${Math.max(1, largestCell(e) / 8)}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** Text on cells past an eighth of the largest (dark on the log colour scale) is drawn white. */
function largestCell(e: Evaluation): number {
  return Math.max(...e.confusion.flat());
}

function indexHtml(run: ReportInput, charts: { title: string; svg: string; png: string }[]): string {
  const last = run.epochs[run.epochs.length - 1];
  const rows = Object.entries(run.config)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v === null ? '—' : String(v))}</td></tr>`)
    .join('\n');
  const warnings = run.diagnostics.flatMap((d) => d.warnings.map((w) => `<li>epoch ${d.epoch}: ${esc(w)}</li>`)).join('\n');
  const perClass = run.evaluation
    ? `<h2>Per class (${esc(run.evalRole)} set)</h2>
<table class="num"><tr><th>class</th><th>precision</th><th>recall</th><th>samples</th></tr>
${run.evaluation.perClass
  .map((c, label) => `<tr><td>${label}</td><td>${percent(c.precision)}</td><td>${percent(c.recall)}</td><td>${c.support}</td></tr>`)
  .join('\n')}
</table>`
    : '';
  const figures = charts
    .map((c) => `<figure><a href="${esc(c.svg)}"><img src="${esc(c.png)}" alt="${esc(c.title)}"></a><figcaption>${esc(c.title)}</figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fcnn report</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
code { background: #f4f4f4; padding: 0.1em 0.3em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
table.num td { text-align: right; }
figure { display: inline-block; margin: 1em; vertical-align: top; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
</style>
</head>
<body>
<h1>fcnn training report</h1>
<p><code>${esc(run.title)}</code></p>
<p>${run.epochs.length} epochs; final loss ${last ? last.loss.toPrecision(4) : '—'}, ${esc(run.evalRole)} accuracy ${
    last && last.testAccuracy !== null ? percent(last.testAccuracy) : '—'
  }.</p>
<h2>Configuration</h2>
<table>
${rows}
</table>
${warnings ? `<h2>Diagnostics warnings</h2>\n<ul>\n${warnings}\n</ul>` : '<h2>Diagnostics</h2>\n<p>No warnings.</p>'}
<h2>Charts</h2>
${figures}
${perClass}
</body>
</html>
`;
}

function percent(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '—';
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// fcnn gradcheck: the analytic gradients of a freshly initialized network (the model options) on a
// small batch of real samples, against central differences of the float64 reference. Exit 1 on fail.
import type { Command } from 'commander';
import { gradientCheck } from '../diagnose/gradcheck.js';
import { hasFloatTargets } from '../nn/loss.js';
import { createModel } from '../nn/model.js';
import { type DataFlags, addDataOptions, dataConfig, loadData } from './data.js';
import { type ModelFlags, addModelOptions, checkFitsData, modelConfig } from './model.js';
import { FailedVerdict, integer, option, positive } from './options.js';
import { type Io, Output } from './output.js';

interface GradcheckFlags extends DataFlags, ModelFlags {
  batch?: number;
  samples?: number;
  threshold?: number;
  seed?: number;
  json?: boolean;
}

export function registerGradcheck(program: Command, io: Io): void {
  const cmd = program.command('gradcheck').description('check backpropagation against float64 central differences on a small batch; exit 1 on fail');
  addModelOptions(cmd);
  addDataOptions(cmd);
  cmd
    .addOption(option('--batch <n>', 'training samples in the batch', integer('--batch', 1, 4096), 16))
    .addOption(option('--samples <n>', 'parameters checked per tensor', integer('--samples', 1), 40))
    .addOption(option('--threshold <e>', 'largest relative error that passes', positive('--threshold'), 1e-3))
    .addOption(option('--seed <n>', 'seed of the weights and of the parameters checked', integer('--seed', 0, 2 ** 32 - 1), 1))
    .option('--json', 'one JSON object on stdout: {"event":"gradcheck",...}')
    .action(async (flags: GradcheckFlags) => runGradcheck(flags, new Output(flags.json === true, io)));
}

async function runGradcheck(flags: GradcheckFlags, out: Output): Promise<void> {
  const seed = flags.seed ?? 1;
  const config = modelConfig(flags, {});
  const batch = flags.batch ?? 16;
  const data = await loadData(dataConfig({ ...flags, limit: flags.limit ?? Math.max(batch, 64) }, {}, seed));
  checkFitsData(config.spec, data.train);
  const model = createModel(config.spec, { init: config.init, seed });
  const rows = Math.min(batch, data.train.count);
  const x = new Float32Array(rows * model.inputs);
  const targets = hasFloatTargets(model.spec.task) ? new Float32Array(rows * model.outputs) : new Int32Array(rows);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  data.train.gather(order, 0, rows, x, targets);

  const result = gradientCheck(model, x, targets, rows, { loss: config.loss, samplesPerTensor: flags.samples, threshold: flags.threshold, seed });
  out.event('gradcheck', { layers: config.spec.layers, loss: config.loss, rows, ...result });
  out.line(
    `gradient check: ${config.spec.layers.join('-')} ${config.spec.activation}, ${config.spec.output} output, ${config.spec.task}, ${config.loss}, ${rows} samples`,
  );
  const width = Math.max(...result.tensors.map((t) => t.name.length));
  for (const t of result.tensors)
    out.line(
      `  ${t.name.padEnd(width)}  worst relative error ${t.maxRelativeError.toExponential(2)}  (${t.checked} checked)  ` +
        `${t.maxRelativeError <= result.threshold ? 'ok' : 'FAIL'}`,
    );
  out.line(`${result.passed ? 'PASS' : 'FAIL'}: worst ${result.maxRelativeError.toExponential(2)}, threshold ${result.threshold.toExponential(0)}`);
  if (!result.passed) throw new FailedVerdict('gradient check failed');
}

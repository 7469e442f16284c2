// fcnn eval: a saved model on the set its training run evaluated on (or on what the data options
// describe), with the inputs normalized exactly as in training: loss, accuracy, per-class precision
// and recall and the confusion matrix.
import type { Command } from 'commander';
import { type Evaluation, evaluate } from '../api/evaluate.js';
import { type DataFlags, DATA_SOURCE_FLAGS, addDataOptions, dataConfig, loadData } from './data.js';
import { checkFitsData, openTrainedModel } from './model.js';
import { UsageError, integer, option } from './options.js';
import { type Io, Output, percent } from './output.js';

interface EvalFlags extends DataFlags {
  model: string;
  seed?: number;
  json?: boolean;
}

export function registerEval(program: Command, io: Io): void {
  const cmd = program
    .command('eval')
    .description('evaluate a saved model: loss, accuracy, per-class precision/recall and the confusion matrix')
    .requiredOption('--model <file>', 'model file written by fcnn train --save')
    .addHelpText('after', '\nWithout data options, the model is evaluated on the set its training run evaluated on (test set or validation split).');
  addDataOptions(cmd);
  cmd
    .addOption(option('--seed <n>', 'seed of the validation split', integer('--seed', 0, 2 ** 32 - 1), 1))
    .option('--json', 'one JSON object on stdout: {"event":"eval",...}')
    .action(async (flags: EvalFlags) => runEval(flags, new Output(flags.json === true, io)));
}

async function runEval(flags: EvalFlags, out: Output): Promise<void> {
  const trained = await openTrainedModel(flags.model);
  const given = DATA_SOURCE_FLAGS.some((k) => flags[k] !== undefined) || flags.seed !== undefined;
  const config = !given && trained.data ? trained.data : dataConfig(flags, {}, flags.seed ?? 1);
  if (flags.normalize !== undefined && flags.normalize !== trained.normalizationKind)
    throw new UsageError(
      `--normalize ${flags.normalize}: ${flags.model} was trained on ${trained.normalizationKind} inputs and is evaluated on them (leave --normalize out)`,
    );
  const data = await loadData(config, trained.normalization, trained.model.schema.classNames);
  checkFitsData(trained.model.spec, data.eval, '--model');
  const report = await evaluate(trained.model, data.eval);
  out.event('eval', { model: flags.model, set: data.evalRole, data: data.eval.description, ...report });
  if (!out.json) printEvaluation(out, flags.model, data.eval.description, report, trained.model.schema.classNames);
}

function printEvaluation(out: Output, model: string, description: string, r: Evaluation, classNames: readonly string[] | null): void {
  out.line(`${model} on ${description}`);
  const m = r.metrics;
  if (m.r2 !== null) {
    out.line(`loss ${r.loss.toFixed(4)}  MSE ${m.mse!.toPrecision(4)}  MAE ${m.mae!.toPrecision(4)}  R² ${m.r2.toFixed(4)}  (${r.count} samples)`);
    return;
  }
  if (m.perLabel) {
    out.line(`loss ${r.loss.toFixed(4)}  per-label accuracy ${percent(r.accuracy)}  macro F1 ${m.f1!.toFixed(4)}  (${r.count} samples)`);
    out.line('label  accuracy  F1');
    m.perLabel.forEach((l, j) => out.line(`${(classNames?.[j] ?? String(j)).padStart(5)}  ${percent(l.accuracy).padStart(8)}  ${l.f1.toFixed(4)}`));
    return;
  }
  out.line(`loss ${r.loss.toFixed(4)}  accuracy ${percent(r.accuracy)} (${Math.round(r.accuracy * r.count)}/${r.count})`);
  out.line();
  out.line('class  precision  recall  samples');
  const name = (c: number) => classNames?.[c] ?? String(c);
  r.perClass.forEach((c, label) =>
    out.line(`${name(label).padStart(5)}  ${percent(c.precision).padStart(9)}  ${percent(c.recall).padStart(6)}  ${String(c.support).padStart(7)}`),
  );
  out.line();
  out.line('confusion matrix (rows: true class, columns: predicted)');
  const width = Math.max(4, ...r.confusion.flat().map((v) => String(v).length + 1));
  out.line(`${'true'.padStart(5)} ${r.confusion.map((_, c) => String(c).padStart(width)).join('')}`);
  r.confusion.forEach((row, t) => out.line(`${String(t).padStart(5)} ${row.map((v) => String(v).padStart(width)).join('')}`));
}

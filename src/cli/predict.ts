// fcnn predict: a saved model on new inputs — IDX images, a CSV, or a picture of a digit — with the
// predicted class and the model's outputs per sample (probabilities for a softmax head).
import type { Command } from 'commander';
import { loadCsv } from '../data/csv.js';
import { Dataset } from '../data/dataset.js';
import { loadIdx } from '../data/idx.js';
import { predict } from '../api/predict.js';
import { checkFitsData, openTrainedModel } from './model.js';
import { UsageError, option } from './options.js';
import { type Io, Output, percent } from './output.js';

/** Pictures decoded by sharp; anything else is a CSV (by its extension) or IDX images. */
const IMAGE_EXTENSIONS = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i;

interface PredictFlags {
  model: string;
  input?: string;
  csv?: string;
  delimiter?: string;
  header?: boolean;
  labels?: string;
  json?: boolean;
}

export function registerPredict(program: Command, io: Io): void {
  program
    .command('predict')
    .description('classify IDX images, CSV rows, or a PNG/JPEG picture of a digit with a saved model')
    .requiredOption('--model <file>', 'model file written by fcnn train --save')
    .option('--input <file>', 'IDX images (with --labels), a CSV (pixel columns, optional "label"), or an image file')
    .option('--csv <file>', 'a CSV of feature columns like the training file’s (its target columns, if still there, are left out)')
    .addOption(option('--delimiter <char>', 'CSV cell delimiter', String, ','))
    .option('--no-header', 'the CSV has no header line')
    .option('--labels <file>', 'IDX labels for IDX images: also prints the accuracy')
    .option('--json', 'one JSON object per sample on stdout: {"event":"prediction",...}')
    .action(async (flags: PredictFlags) => runPredict(flags, new Output(flags.json === true, io)));
}

async function runPredict(flags: PredictFlags, out: Output): Promise<void> {
  const trained = await openTrainedModel(flags.model);
  const { model } = trained;
  let data: Dataset;
  let inverted: boolean | undefined;
  if ((flags.input === undefined) === (flags.csv === undefined)) throw new UsageError('give --input FILE or --csv FILE');
  const schema = model.schema;
  if (flags.csv !== undefined) {
    if (flags.labels) throw new UsageError('--labels goes with IDX images, not with --csv');
    // The columns the model was trained to predict are left out, by the names it keeps.
    data = await loadCsv(flags.csv, { target: null, ignore: schema.targetNames ?? ['label'], delimiter: flags.delimiter, header: flags.header });
  } else if (IMAGE_EXTENSIONS.test(flags.input!)) {
    if (flags.labels) throw new UsageError('--labels goes with IDX images, not with a picture');
    const { readDigitImage } = await import('./image.js');
    const image = await readDigitImage(flags.input!);
    inverted = image.inverted;
    data = new Dataset({ images: image.pixels, labels: null, count: 1, width: image.pixels.length, shape: [28, 28], source: flags.input! });
    out.note(
      `${flags.input}: ${image.width}×${image.height} image, grayscale, ` +
        `${image.inverted ? 'inverted (mostly light; MNIST digits are white on black), ' : ''}digit centred in 28×28`,
    );
  } else if (/\.csv$/i.test(flags.input!)) {
    if (flags.labels) throw new UsageError('--labels goes with IDX images; a CSV carries its labels in a "label" column');
    data = await loadCsv(flags.input!, schema.classNames ? { classNames: schema.classNames } : {});
  } else {
    if (!flags.labels) throw new UsageError(`--input ${flags.input} is read as IDX images, which need --labels FILE (or give a .csv or an image)`);
    data = await loadIdx(flags.input!, flags.labels);
  }
  checkFitsData(model.spec, data, '--model');

  // predict() normalizes the raw inputs as the model was trained to, and gives regression values in the targets' units.
  const { probabilities: outputs, classes: predicted, classNames } = await predict(model, data);
  const k = model.classes;
  const task = model.spec.task;
  const field = task === 'regression' ? 'values' : model.spec.output === 'softmax' ? 'probabilities' : 'outputs';
  const names = schema.classNames;
  const column = (c: number) => names?.[c] ?? (task === 'regression' ? schema.targetNames?.[c] : undefined) ?? String(c);
  let correct = 0;
  for (let i = 0; i < data.count; i++) {
    const row = Array.from(outputs.subarray(i * k, (i + 1) * k));
    const label = data.labels ? data.labels[i] : undefined;
    if (label === predicted[i]) correct++;
    if (task === 'regression') {
      out.event('prediction', { sample: i, values: row });
      out.line(`sample ${i}: ${row.map((v, c) => `${column(c)} ${v.toPrecision(6)}`).join('  ')}`);
      continue;
    }
    const chosen = task === 'multilabel' ? row.flatMap((v, c) => (v >= 0.5 ? [column(c)] : [])) : null;
    out.event('prediction', {
      sample: i,
      predicted: predicted[i],
      ...(classNames && { class: classNames[i] }),
      ...(chosen && { labels: chosen }),
      [field]: row,
      ...(label !== undefined && { label }),
      ...(inverted !== undefined && { inverted }),
    });
    const truth = label === undefined ? '' : `  label ${column(label)}${label === predicted[i] ? '' : '  ✗'}`;
    const p = model.spec.output === 'softmax' ? `  p ${row[predicted[i]].toFixed(3)}` : '';
    const answer = chosen ? `labels ${chosen.join(',') || '(none)'}` : column(predicted[i]);
    out.line(`sample ${i}: ${answer}${p}${truth}  ${field}: ${row.map((v, c) => `${column(c)}:${v.toFixed(3)}`).join(' ')}`);
  }
  if (data.labels) out.line(`accuracy ${percent(correct / data.count)} (${correct}/${data.count})`);
}

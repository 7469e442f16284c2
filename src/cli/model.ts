// The model options shared by train and gradcheck (architecture, initializer, loss), and the one
// way the other commands open a trained model file: its network plus the input normalization it
// was trained with, which every later input must go through.
import type { Command } from 'commander';
import { type TrainedModel, loadTrained } from '../api/model-file.js';
import { formatInit, parseInit } from '../nn/init.js';
import { ACTIVATIONS, ACTIVATION_NAMES } from '../nn/activations.js';
import { LOSSES, type Loss, OUTPUTS, checkLoss, defaultLoss } from '../nn/loss.js';
import { defaultInit } from '../nn/model.js';
import { type ModelSpec, NORMS, type Task, resolveSpec } from '../nn/spec.js';
import type { Dataset } from '../data/dataset.js';
import type { DataConfig } from './data.js';
import { DataFormatError } from '../errors.js';
import { UsageError, asUsage, choice, library, option, positive } from './options.js';

export interface ModelFlags {
  layers?: number[];
  activation?: ModelSpec['activation'];
  output?: ModelSpec['output'];
  sigmoidAlpha?: number;
  norm?: ModelSpec['norm'];
  init?: string;
  loss?: Loss;
  task?: Task;
}

export interface ModelConfig {
  spec: ModelSpec;
  /** Initializer in parseInit syntax. */
  init: string;
  loss: Loss;
}

const DEFAULT_LAYERS = [784, 128, 10];
const TASK_OUTPUT = { regression: 'linear', multilabel: 'sigmoid' } as const;

/** The spec's layers with the input and output widths of the data (its hidden layers kept), for a run without --layers. */
export function fitLayers(spec: ModelSpec, width: number, outputs: number): ModelSpec {
  return resolveSpec({ ...spec, layers: [width, ...spec.layers.slice(1, -1), outputs] });
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .addOption(
      option(
        '--layers <widths>',
        'widths from input to output, comma-separated (default: the preset’s hidden layers between the data’s input and output widths)',
        parseLayers,
        DEFAULT_LAYERS.join(','),
      ),
    )
    .addOption(option('--activation <name>', `hidden activation: ${ACTIVATION_NAMES.join(', ')}`, choice('--activation', ACTIVATION_NAMES), 'relu'))
    .addOption(option('--output <head>', `output head: ${OUTPUTS.join(', ')}`, choice('--output', OUTPUTS), 'softmax'))
    .addOption(option('--sigmoid-alpha <a>', 'input scale of sigmoids: sigmoid(a·x)', positive('--sigmoid-alpha'), 1))
    .addOption(option('--norm <kind>', `normalization of hidden layers: ${NORMS.join(', ')}`, choice('--norm', NORMS), 'none'))
    .addOption(
      option(
        '--init <scheme>',
        'weights: he, glorot, lecun (normal), he-uniform, glorot-uniform, lecun-uniform, or uniform:A for U(-A, A) weights and biases',
        library('--init', (text) => formatInit(parseInit(text))),
        `he for ${ACTIVATION_NAMES.filter((a) => ACTIVATIONS[a].init === 'he').join('/')}, glorot otherwise`,
      ),
    )
    .addOption(option('--loss <name>', 'cross-entropy (softmax), mse (sigmoid or linear outputs), bce (multilabel)', choice('--loss', LOSSES), 'the task’s'));
}

function parseLayers(text: string): number[] {
  const parts = text.split(',');
  const widths = parts.map(Number);
  const bad = parts.findIndex((p, i) => p.trim() === '' || !Number.isInteger(widths[i]) || widths[i] < 1 || widths[i] > 1 << 20);
  if (bad >= 0) throw new UsageError(`--layers: width ${JSON.stringify(parts[bad])} (position ${bad + 1}) must be an integer from 1 to 1048576`);
  if (widths.length < 2) throw new UsageError(`--layers needs at least an input and an output width, e.g. 784,128,10; got ${JSON.stringify(text)}`);
  return widths;
}

/** The flags over the preset's model; refuses combinations the library would refuse, naming the flag. */
export function modelConfig(flags: ModelFlags, preset: { model?: Partial<ModelSpec>; init?: string; loss?: Loss }): ModelConfig {
  const task = flags.task ?? 'classification';
  // A task other than classification brings its own head; the preset's softmax is for classes.
  const base = task === 'classification' ? (preset.model ?? {}) : { ...preset.model, output: TASK_OUTPUT[task] };
  const spec = asUsage(flags.output && task !== 'classification' ? '--output' : '--layers', () =>
    resolveSpec({
      ...base,
      task,
      layers: flags.layers ?? base.layers ?? DEFAULT_LAYERS,
      ...(flags.activation && { activation: flags.activation }),
      ...(flags.output && { output: flags.output }),
      ...(flags.sigmoidAlpha !== undefined && { sigmoidAlpha: flags.sigmoidAlpha }),
      ...(flags.norm && { norm: flags.norm }),
    }),
  );
  // A preset's loss belongs to its output head: another head gets its own default.
  const presetLoss = task === 'classification' && (flags.output === undefined || flags.output === base.output) ? preset.loss : undefined;
  const loss = flags.loss ?? presetLoss ?? defaultLoss(spec.output, task);
  asUsage('--loss', () => checkLoss(spec.output, loss, task));
  const init = flags.init ?? preset.init ?? formatInit(defaultInit(spec));
  return { spec, init, loss };
}

/** Refuses a model whose input or output width cannot serve data of this width and class count. */
export function checkFitsData(spec: ModelSpec, data: Dataset, flag = '--layers'): void {
  const inputs = spec.layers[0];
  const outputs = spec.layers[spec.layers.length - 1];
  if (inputs !== data.width) throw new UsageError(`${flag}: the input width ${inputs} does not match the ${data.width} features per sample of ${data.source}`);
  if (spec.task !== 'classification') {
    if (data.targets && data.classes !== outputs)
      throw new UsageError(`${flag}: ${data.source} has ${data.classes} target values per sample but the output layer has ${outputs} units`);
    return;
  }
  // A label the output layer cannot hold: the data may be right, the flag that sized the layer is not.
  try {
    data.requireLabelsBelow(outputs, `the output layer has ${outputs} units`);
  } catch (err) {
    if (err instanceof DataFormatError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
  if (data.classes > outputs) throw new UsageError(`${flag}: ${data.source} has ${data.classes} classes but the output layer has only ${outputs} units`);
}

export interface TrainedModelWithData extends TrainedModel {
  /** The data the run trained and evaluated on, when fcnn train saved the file. */
  data: DataConfig | null;
}

/** Opens a model file with its normalization and, when fcnn train wrote it, its data configuration. */
export async function openTrainedModel(path: string): Promise<TrainedModelWithData> {
  const trained = await loadTrained(path);
  return { ...trained, data: savedDataConfig(trained.training) };
}

/** The data configuration in a training record written by fcnn train, or null when it is not one. */
function savedDataConfig(training: Record<string, unknown> | undefined): DataConfig | null {
  const data = (training?.config as { data?: DataConfig } | undefined)?.data;
  const kinds = ['mnist', 'idx', 'files', 'csv'];
  if (!data || typeof data !== 'object' || !kinds.includes(data.source?.kind) || !Number.isInteger(data.seed)) return null;
  return data;
}

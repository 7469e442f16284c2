// fcnn train: a preset (recommended unless --preset says otherwise) with the flags over it, every
// value checked before any data is read; then training with a progress bar, one summary line per
// epoch, layer diagnostics, and on request a saved model and a report folder.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { advise } from '../diagnose/advice.js';
import { evaluate } from '../api/evaluate.js';
import { predict } from '../api/predict.js';
import type { Dataset } from '../data/dataset.js';
import type { ReportInput } from '../diagnose/report.js';
import type { Model } from '../nn/model.js';
import type { Diagnostics } from '../diagnose/report.js';
import { Probe } from '../diagnose/stats.js';
import { save } from '../api/model-file.js';
import { createModel } from '../nn/model.js';
import { OPTIMIZERS, type OptimizerConfig, type OptimizerName, type OptimizerOptions, resolveOptimizer } from '../optim/optimizer.js';
import { parseSchedule } from '../optim/schedule.js';
import { NonFiniteError } from '../train/guard.js';
import type { Precision } from '../nn/dense.js';
import { type EpochEvent, type TrainOptions, checkPrecision, resolveTrainOptions } from '../train/options.js';
import { PRESETS, type Preset, type PresetName } from '../train/presets.js';
import { train } from '../train/trainer.js';
import { type World, joinWorld } from '../distributed/mpi.js';
import { bindingWarning, failJob, rankPrefix } from '../distributed/rank.js';
import { type DataConfig, type DataFlags, type LoadedData, addDataOptions, dataConfig, loadData } from './data.js';
import { layerSummary, printDiagnostics } from './diagnostics.js';
import { type ModelConfig, type ModelFlags, addModelOptions, checkFitsData, fitLayers, modelConfig } from './model.js';
import { TARGET_NORMALIZATIONS, type TargetNormalizationKind, applySchema, fitSchema } from '../data/schema.js';
import { CliError, UsageError, asUsage, between, choice, integer, library, option, positive } from './options.js';
import { type Io, Output, percent, rate } from './output.js';

interface TrainFlags extends DataFlags, ModelFlags {
  targetNormalize?: TargetNormalizationKind;
  preset?: PresetName;
  optimizer?: OptimizerName;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  schedule?: string;
  batchSize?: number | 'full';
  epochs?: number;
  workers?: number;
  precision?: Precision;
  seed?: number;
  save?: string;
  report?: string;
  json?: boolean;
  diagnose?: boolean;
  distributed?: 'mpi';
}

/** Everything a run was configured with, resolved: what the model file and the report record. */
interface RunConfig {
  preset: PresetName;
  model: ModelConfig;
  data: DataConfig;
  train: {
    optimizer: OptimizerConfig;
    lr: number | undefined;
    schedule: string;
    batchSize: number | 'full';
    epochs: number;
    /** Undefined: the library's default (all cores, at most one per row of a batch). */
    workers: number | undefined;
    precision: Precision;
    seed: number;
  };
}

const DEFAULT_PRESET: PresetName = 'recommended';

export function registerTrain(program: Command, io: Io, args: string[]): void {
  const cmd = program
    .command('train')
    .description('train a network on MNIST (or your IDX/CSV data) and report every epoch')
    .addOption(
      option(
        '--preset <name>',
        'seed: the original hand-written network (784-128-10, uniform:0.5, sigmoid outputs, MSE, full-batch GD); ' +
          'recommended: the configuration that reaches ≥ 98%. Flags override its values',
        choice('--preset', Object.keys(PRESETS) as PresetName[]),
        DEFAULT_PRESET,
      ),
    );
  addDataOptions(cmd);
  addModelOptions(cmd);
  cmd
    .addOption(option('--optimizer <name>', `${OPTIMIZERS.join(', ')} (another than the preset's drops its lr and settings)`, choice('--optimizer', OPTIMIZERS)))
    .addOption(option('--lr <rate>', 'base learning rate (default: the preset’s, else sgd 0.1, momentum 0.05, adam/adamw 0.001)', positive('--lr')))
    .addOption(option('--momentum <m>', 'momentum coefficient (momentum optimizer)', between('--momentum', 0, 1, true), 0.9))
    .addOption(option('--weight-decay <wd>', 'weight decay (L2 for sgd/momentum/adam, decoupled for adamw)', positive('--weight-decay', true)))
    .addOption(
      option('--schedule <spec>', 'constant, step:EVERY_EPOCHS:GAMMA or cosine[:MIN_FACTOR], optionally ,warmup:STEPS', library('--schedule', (t) => (parseSchedule(t), t))),
    )
    .addOption(option('--batch-size <n>', 'samples per step, or full for full-batch gradient descent', parseBatchSize))
    .addOption(option('--epochs <n>', 'passes over the training samples', integer('--epochs', 1)))
    .addOption(option('--workers <n>', 'worker threads; 0 trains in the main thread', integer('--workers', 0, 1024), `all ${availableParallelism()} cores`))
    .addOption(
      option(
        '--precision <p>',
        'fp32, or bf16: the matrix products in bf16 with fp32 sums (weights, optimizer and loss stay fp32; needs AVX512-BF16)',
        library('--precision', checkPrecision),
        'fp32',
      ),
    )
    .addOption(option('--seed <n>', 'seed of the initial weights, the shuffles and the validation split', integer('--seed', 0, 2 ** 32 - 1), 1))
    .addOption(option('--save <file>', 'write the trained model (safetensors, with the configuration and results)', String))
    .addOption(option('--report <dir>', 'write PNG/SVG charts and an index.html of the run', String))
    .addOption(option('--distributed <kind>', 'mpi: one rank of a job started by mpirun (see docs/MPI.md); --batch-size is the global batch', choice('--distributed', ['mpi'] as const)))
    .addOption(
      option('--target-normalize <kind>', 'regression targets: standardize (fitted on the training samples, undone by predict) or none', choice('--target-normalize', TARGET_NORMALIZATIONS), 'standardize'),
    )
    .option('--diagnose', 'layer diagnostics after every epoch (default: after the first and the last)')
    .option('--json', 'one JSON object per line on stdout: epoch, diagnostics and done events')
    .addHelpText('after', `\nPresets (flags override their values; without --preset: ${DEFAULT_PRESET}):\n${presetTable()}`)
    .action(async (flags: TrainFlags) => runRank(flags, io, `fcnn ${args.join(' ')}`));
}

/**
 * Without --distributed, the training run. With it, this rank's: rank 0 prints and writes, the others
 * only report their errors (with their rank), and an error on any rank ends the whole job.
 */
async function runRank(flags: TrainFlags, io: Io, title: string): Promise<void> {
  const json = flags.json === true;
  if (!flags.distributed) return runTrain(flags, new Output(json, io), title, null);
  const world = joinWorld();
  const silent = { write: () => true };
  const out = new Output(json, world.rank === 0 ? io : { stdout: silent, stderr: silent });
  try {
    await runTrain(flags, out, title, world);
  } catch (err) {
    failJob(world, err);
  }
}

function presetTable(): string {
  const names = Object.keys(PRESETS) as PresetName[];
  const width = Math.max(...names.map((n) => n.length));
  return names
    .map((name) => {
      const p: Preset = PRESETS[name];
      const m = p.model;
      const t = p.train;
      const optimizer = typeof t.optimizer === 'string' ? resolveOptimizer(t.optimizer) : resolveOptimizer(t.optimizer!);
      const parts = [
        `--layers ${m.layers.join(',')}`,
        m.activation && `--activation ${m.activation}`,
        m.output && `--output ${m.output}`,
        m.sigmoidAlpha !== undefined && `--sigmoid-alpha ${m.sigmoidAlpha}`,
        `--init ${p.init}`,
        t.loss && `--loss ${t.loss}`,
        `--optimizer ${optimizer.kind}`,
        optimizer.kind === 'momentum' && `--momentum ${optimizer.momentum}${optimizer.nesterov ? ' (Nesterov)' : ''}`,
        optimizer.weightDecay && `--weight-decay ${optimizer.weightDecay}`,
        t.lr !== undefined && `--lr ${t.lr}`,
        typeof t.schedule === 'string' && `--schedule ${t.schedule}`,
        t.batchSize !== undefined && `--batch-size ${t.batchSize}`,
        t.epochs !== undefined && `--epochs ${t.epochs}`,
        p.data.limit !== undefined && `--limit ${p.data.limit}`,
        p.data.valSplit !== undefined && `--val-split ${p.data.valSplit}`,
        `--normalize ${p.data.normalize}`,
      ];
      return `  ${name.padEnd(width)}  ${parts.filter(Boolean).join(' ')}`;
    })
    .join('\n');
}

function parseBatchSize(text: string): number | 'full' {
  return text === 'full' ? 'full' : integer('--batch-size', 1)(text);
}

/** The preset with the flags over it; refuses what cannot be right, naming the flag. */
function runConfig(flags: TrainFlags): RunConfig {
  const presetName = flags.preset ?? DEFAULT_PRESET;
  const preset: Preset = PRESETS[presetName];
  const seed = flags.seed ?? 1;
  const model = modelConfig(flags, { model: preset.model, init: preset.init, loss: preset.train.loss });

  // The preset's optimizer settings and learning rate belong to its optimizer.
  const presetOptimizer: OptimizerOptions = typeof preset.train.optimizer === 'string' ? { kind: preset.train.optimizer } : { ...preset.train.optimizer! };
  const kind = flags.optimizer ?? presetOptimizer.kind;
  const keepPreset = kind === presetOptimizer.kind;
  if (flags.momentum !== undefined && kind !== 'momentum')
    throw new UsageError(`--momentum applies to --optimizer momentum only; the optimizer is ${kind}`);
  const optimizer = asUsage('--optimizer', () =>
    resolveOptimizer({
      ...(keepPreset ? presetOptimizer : { kind }),
      ...(flags.momentum !== undefined && { momentum: flags.momentum }),
      ...(flags.weightDecay !== undefined && { weightDecay: flags.weightDecay }),
    }),
  );
  return {
    preset: presetName,
    model,
    data: dataConfig(flags, preset.data, seed),
    train: {
      optimizer,
      lr: flags.lr ?? (keepPreset ? preset.train.lr : undefined),
      schedule: flags.schedule ?? (typeof preset.train.schedule === 'string' ? preset.train.schedule : 'constant'),
      batchSize: flags.batchSize ?? preset.train.batchSize ?? 128,
      epochs: flags.epochs ?? preset.train.epochs ?? 10,
      workers: flags.workers,
      precision: flags.precision ?? 'fp32',
      seed,
    },
  };
}

async function runTrain(flags: TrainFlags, out: Output, title: string, world: World | null): Promise<void> {
  const config = runConfig(flags);
  const warning = world && bindingWarning(config.train.workers ?? availableParallelism());
  if (warning) process.stderr.write(`${rankPrefix(world)}${warning}\n`);
  // The report's optional packages are checked before training, not after it.
  if (flags.report) await (await import('../diagnose/render.js')).chartLibraries();
  const data = await loadData(config.data);
  if (!flags.layers) config.model.spec = fitLayers(config.model.spec, data.train.width, data.train.classes);
  checkFitsData(config.model.spec, data.train);
  checkFitsData(config.model.spec, data.eval);

  const model = createModel(config.model.spec, { init: config.model.init, seed: config.train.seed });
  const aborter = new AbortController();
  const options: TrainOptions = {
    epochs: config.train.epochs,
    batchSize: config.train.batchSize,
    optimizer: config.train.optimizer,
    lr: config.train.lr,
    schedule: config.train.schedule,
    loss: config.model.loss,
    normalize: config.data.normalize ?? undefined,
    targetNormalize: flags.targetNormalize,
    seed: config.train.seed,
    workers: config.train.workers,
    precision: config.train.precision,
    evalData: data.eval,
    signal: aborter.signal,
    ...(world && { distributed: 'mpi' as const }),
  };
  const resolved = withFlagNames(() => resolveTrainOptions(model, data.train, options));
  config.train.workers = resolved.workers;
  if (world) {
    const workers = config.train.workers === 0 ? 'serial' : plural(config.train.workers, 'worker');
    out.note(`MPI: ${world.library}, ${plural(world.size, 'rank')} × ${workers}, global batch ${resolved.batchSize}`);
    out.event('mpi', { library: world.library, worldSize: world.size, workers: config.train.workers, globalBatch: resolved.batchSize });
  }
  describeRun(out, config, data, resolved.lr, resolved.batchSize);

  // The probe sees the samples as training will: fitted as train() fits them.
  model.schema = fitSchema(data.train, options);
  const probe = new Probe(model, applySchema(model.schema, data.train), undefined, config.train.seed);
  const diagnostics: Diagnostics[] = [];
  const evalName = data.evalRole === 'test' ? 'test' : 'val';
  const stepsPerEpoch = Math.ceil(data.train.count / resolved.batchSize);
  // The bar shows the epoch's running mean loss: one batch's loss jumps around too much to read.
  let lossSum = 0;
  let seen = 0;
  const onInterrupt = () => aborter.abort();
  process.once('SIGINT', onInterrupt);
  let history;
  try {
    history = await train(model, data.train, {
      ...options,
      onStep: (s) => {
        if (!out.progress) return;
        if (s.step === 1) {
          out.progress.start();
          lossSum = 0;
          seen = 0;
        }
        lossSum += s.loss * (s.samples - seen);
        seen = s.samples;
        out.progress.update({ label: `epoch ${s.epoch}/${resolved.epochs}`, done: s.step, total: stepsPerEpoch, samplesPerSec: s.samplesPerSec, loss: lossSum / seen });
      },
      onEpoch: (e) => {
        reportEpoch(out, e, resolved.epochs, evalName);
        if ((flags.diagnose || e.epoch === 1 || e.epoch === resolved.epochs) && (world?.rank ?? 0) === 0) {
          const stats = probe.measure(resolved.lr);
          const warnings = advise(stats, { spec: model.spec, optimizer: resolved.optimizer });
          diagnostics.push({ epoch: e.epoch, stats, warnings });
          out.event('diagnostics', { epoch: e.epoch, samples: stats.samples, loss: stats.loss, layers: stats.layers.map(layerSummary), warnings });
          if (!out.json) printDiagnostics(out, e.epoch, stats, warnings);
        }
      },
    });
  } catch (err) {
    out.progress?.clear();
    if (aborter.signal.aborted) throw new CliError('interrupted', 130);
    if (err instanceof NonFiniteError) throw new CliError(`training stopped: ${err.message}; a lower --lr usually helps`);
    throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
  }

  out.event('done', {
    testAccuracy: history.testAccuracy,
    ...(history.epochs.at(-1)!.testR2 !== undefined && { testR2: history.epochs.at(-1)!.testR2 }),
    epochs: history.epochs.length,
    seconds: history.seconds,
    workers: history.workers,
    ...(world && { rank: history.rank, worldSize: history.worldSize }),
  });
  const final = history.epochs.at(-1)!;
  const result = final.testR2 !== undefined ? `R² ${fixed(final.testR2)}` : `accuracy ${percent(history.testAccuracy)}`;
  out.line(
    `done: ${data.evalRole} ${result} after ${plural(history.epochs.length, 'epoch')} in ${history.seconds.toFixed(1)} s ` +
      `(${history.workers === 0 ? 'serial' : `${history.workers} workers`})`,
  );

  const record = {
    command: title,
    preset: config.preset,
    // The precision the weights were trained in (a model file serves fp32 inference whatever it is).
    precision: resolved.precision,
    config: { ...config, train: { ...config.train, lr: resolved.lr } },
    results: { evalRole: data.evalRole, testAccuracy: history.testAccuracy, seconds: history.seconds, workers: history.workers, epochs: history.epochs },
  };
  // Every rank holds the same model (train() checked): rank 0 writes it.
  if (world && world.rank !== 0) return;
  if (flags.save) {
    await save(model, flags.save, { training: record });
    out.note(`saved the model to ${flags.save}`);
  }
  if (flags.report) {
    // Vega and sharp load only when a report is asked for: they take longer to import than a short run.
    const { writeReport } = await import('../diagnose/report.js');
    const files = await writeReport(flags.report, {
      title,
      config: flatConfig(config, data, resolved.lr, resolved.batchSize),
      epochs: history.epochs,
      evalRole: data.evalRole,
      diagnostics,
      evaluation: await evaluate(model, data.eval),
      predictions: model.spec.task === 'regression' && data.eval.targets ? await regressionPredictions(model, data.eval) : null,
    });
    files.warnings.forEach((w) => out.note(`warning: ${w}`));
    out.note(`wrote the report to ${flags.report}/index.html (${files.files.length} files)`);
  }
}

/** The held-out set's true values and the model's predictions, in the targets' units, for the report. */
async function regressionPredictions(model: Model, data: Dataset): Promise<ReportInput['predictions']> {
  const { probabilities } = await predict(model, data);
  return { actual: data.targets!, predicted: probabilities, outputs: model.schema.targetNames ?? Array.from({ length: model.outputs }, (_, j) => `output ${j}`) };
}

function describeRun(out: Output, config: RunConfig, data: LoadedData, lr: number, batchSize: number): void {
  const { spec } = config.model;
  out.note(`preset ${config.preset}: ${spec.layers.join('-')} ${spec.activation}, ${spec.output} output, ${config.model.loss} loss, init ${config.model.init}`);
  out.note(`optimizer ${describeOptimizer(config.train.optimizer)}, lr ${lr}, schedule ${config.train.schedule}, batch ${batchSize}, ${plural(config.train.epochs, 'epoch')}, ${config.train.workers === 0 ? 'serial' : `${config.train.workers} workers`}, ${config.train.precision} products`);
  out.note(`train: ${data.train.description}`);
  out.note(`${data.evalRole}: ${data.eval.description}`);
}

function reportEpoch(out: Output, e: EpochEvent, epochs: number, evalName: string): void {
  out.event('epoch', {
    epoch: e.epoch,
    loss: e.loss,
    trainAccuracy: e.trainAccuracy,
    testLoss: e.testLoss,
    testAccuracy: e.testAccuracy,
    ...(e.testR2 !== undefined && { testMse: e.testMse, testMae: e.testMae, testR2: e.testR2 }),
    ...(e.testF1 !== undefined && { testF1: e.testF1 }),
    seconds: e.seconds,
    samplesPerSec: e.samplesPerSec,
    lr: e.lr,
    skippedSteps: e.skippedSteps,
  });
  const width = String(epochs).length;
  const held =
    e.testR2 !== undefined
      ? `${evalName} R² ${fixed(e.testR2)}  MAE ${fixed(e.testMae)}`
      : `${e.trainAccuracy === null ? '' : `train ${percent(e.trainAccuracy)}  `}${evalName} ${percent(e.testAccuracy)}${e.testF1 !== undefined ? `  F1 ${fixed(e.testF1)}` : ''}`;
  out.line(`epoch ${String(e.epoch).padStart(width)}/${epochs}  loss ${e.loss.toFixed(4)}  ${held}  ${e.seconds.toFixed(1)} s  ${rate(e.samplesPerSec)} samples/s`);
}

function fixed(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : v.toPrecision(4);
}

/** The flags behind the training options the library checks in combination (e.g. batchSize with BatchNorm). */
const TRAIN_OPTION_FLAGS: Record<string, string> = { epochs: '--epochs', batchSize: '--batch-size', lr: '--lr', seed: '--seed', workers: '--workers', precision: '--precision' };

/** Runs a library check whose RangeError starts with an option's name; the error becomes a UsageError naming its flag. */
function withFlagNames<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const flag = TRAIN_OPTION_FLAGS[/^\w+/.exec(err.message)?.[0] ?? ''];
    throw new UsageError(flag ? `${flag}: ${err.message}` : err.message);
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function describeOptimizer(o: OptimizerConfig): string {
  const wd = o.weightDecay ? `, weight decay ${o.weightDecay}` : '';
  if (o.kind === 'momentum') return `momentum ${o.momentum}${o.nesterov ? ' (Nesterov)' : ''}${wd}`;
  return `${o.kind}${wd}`;
}

function flatConfig(config: RunConfig, data: LoadedData, lr: number, batchSize: number): Record<string, string | number | boolean | null> {
  const { spec, init, loss } = config.model;
  return {
    preset: config.preset,
    layers: spec.layers.join('-'),
    activation: spec.activation,
    output: spec.sigmoidAlpha !== 1 && (spec.output === 'sigmoid' || spec.activation === 'sigmoid') ? `${spec.output} (sigmoid-alpha ${spec.sigmoidAlpha})` : spec.output,
    norm: spec.norm,
    init,
    loss,
    optimizer: describeOptimizer(config.train.optimizer),
    lr,
    schedule: config.train.schedule,
    'batch size': batchSize,
    epochs: config.train.epochs,
    workers: config.train.workers ?? null,
    precision: config.train.precision,
    seed: config.train.seed,
    'training data': data.train.description,
    [`${data.evalRole} data`]: data.eval.description,
  };
}

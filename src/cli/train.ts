// fcnn train: a preset (recommended unless --preset says otherwise) with the flags over it, every
// value checked before any data is read; then training with a progress bar, one summary line per
// epoch, layer diagnostics, and on request a saved model, a report folder and training checkpoints.
// SIGINT or SIGTERM ends the run after the current step, keeping the work: the checkpoint and the
// model of the last completed epoch are written, then the process exits 130 or 143; a second
// signal exits at once.
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
import {
  OPTIMIZERS,
  type OptimizerConfig,
  type OptimizerName,
  type OptimizerOptions,
  defaultLr,
  describeOptimizer,
  resolveOptimizer,
} from '../optim/optimizer.js';
import { parseSchedule } from '../optim/schedule.js';
import { TrainingAbortedError } from '../train/aborted.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { NonFiniteError } from '../errors.js';
import type { Precision } from '../nn/dense.js';
import { EPOCH_METRICS, type EpochEvent, type TrainOptions, checkPrecision, checkWorkers, resolveTrainOptions } from '../train/options.js';
import { PRESETS, type Preset, type PresetName } from '../train/presets.js';
import { type TrainHistory, train } from '../train/trainer.js';
import { type World, joinWorld } from '../train/mpi/world.js';
import { bindingWarning, failJob, rankPrefix } from '../train/mpi/rank.js';
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
  checkpoint?: string;
  checkpointEvery?: number;
  resume?: string;
  earlyStopping?: number;
  earlyStoppingMonitor?: string;
  earlyStoppingMinDelta?: number;
}

/** The flags that may accompany --resume: the rest of the configuration comes from the checkpoint. */
const RESUME_FLAGS = new Set<keyof TrainFlags>([
  'resume',
  'epochs',
  'workers',
  'distributed',
  'save',
  'report',
  'json',
  'diagnose',
  'checkpoint',
  'checkpointEvery',
]);

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
    earlyStopping: { patience: number; monitor: string; minDelta: number } | null;
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
    .addOption(
      option('--optimizer <name>', `${OPTIMIZERS.join(', ')} (another than the preset's drops its lr and settings)`, choice('--optimizer', OPTIMIZERS)),
    )
    .addOption(
      option('--lr <rate>', `base learning rate (default: the preset’s, else ${OPTIMIZERS.map((k) => `${k} ${defaultLr(k)}`).join(', ')})`, positive('--lr')),
    )
    .addOption(option('--momentum <m>', 'momentum coefficient (momentum optimizer)', between('--momentum', 0, 1, true), 0.9))
    .addOption(option('--weight-decay <wd>', 'weight decay (L2 for sgd/momentum/adam, decoupled for adamw)', positive('--weight-decay', true)))
    .addOption(
      option(
        '--schedule <spec>',
        'constant, step:EVERY_EPOCHS:GAMMA or cosine[:MIN_FACTOR], optionally ,warmup:STEPS',
        library('--schedule', (t) => {
          parseSchedule(t);
          return t;
        }),
      ),
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
    .addOption(
      option(
        '--distributed <kind>',
        'mpi: one rank of a job started by mpirun (see docs/MPI.md); --batch-size is the global batch',
        choice('--distributed', ['mpi'] as const),
      ),
    )
    .addOption(
      option(
        '--target-normalize <kind>',
        'regression targets: standardize (fitted on the training samples, undone by predict) or none',
        choice('--target-normalize', TARGET_NORMALIZATIONS),
        'standardize',
      ),
    )
    .addOption(
      option('--checkpoint <file>', 'write a training checkpoint (atomically) after every --checkpoint-every epochs, the last one, and on Ctrl-C', String),
    )
    .addOption(option('--checkpoint-every <n>', 'epochs between checkpoints', integer('--checkpoint-every', 1), 1))
    .addOption(
      option('--resume <file>', 'continue the run of a checkpoint with its configuration (only --epochs, --workers and the output flags may be given)', String),
    )
    .addOption(
      option('--early-stopping <patience>', 'stop after this many epochs without improvement, keeping the best epoch’s model', integer('--early-stopping', 1)),
    )
    .addOption(
      option(
        '--early-stopping-monitor <metric>',
        `the epoch metric early stopping watches: ${Object.keys(EPOCH_METRICS).join(', ')}`,
        choice('--early-stopping-monitor', Object.keys(EPOCH_METRICS)),
        'testLoss',
      ),
    )
    .addOption(option('--early-stopping-min-delta <d>', 'the least change that counts as an improvement', positive('--early-stopping-min-delta', true), 0))
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
  if (flags.momentum !== undefined && kind !== 'momentum') throw new UsageError(`--momentum applies to --optimizer momentum only; the optimizer is ${kind}`);
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
      earlyStopping: earlyStoppingConfig(flags),
    },
  };
}

function earlyStoppingConfig(flags: TrainFlags): RunConfig['train']['earlyStopping'] {
  if (flags.earlyStopping === undefined) {
    const stray =
      flags.earlyStoppingMonitor !== undefined ? '--early-stopping-monitor' : flags.earlyStoppingMinDelta !== undefined ? '--early-stopping-min-delta' : null;
    if (stray) throw new UsageError(`${stray} needs --early-stopping PATIENCE`);
    return null;
  }
  return { patience: flags.earlyStopping, monitor: flags.earlyStoppingMonitor ?? 'testLoss', minDelta: flags.earlyStoppingMinDelta ?? 0 };
}

/** With --resume: the configuration the checkpoint was written with, the flags allowed over it applied. */
async function resumedConfig(flags: TrainFlags, path: string): Promise<RunConfig> {
  for (const [key, value] of Object.entries(flags))
    if (value !== undefined && !RESUME_FLAGS.has(key as keyof TrainFlags) && !(key === 'header' && value === true))
      // --no-header's default
      throw new UsageError(`${flagName(key)} cannot be given with --resume: the run goes on with the configuration saved in ${path}`);
  const checkpoint = await readCheckpoint(path);
  const run = checkpoint.state.context?.run as RunConfig | undefined;
  if (typeof run !== 'object' || run === null || !run.model || !run.data || !run.train)
    throw new CliError(`${path} was not written by fcnn train --checkpoint (it has no run configuration)`);
  return { ...run, train: { ...run.train, epochs: flags.epochs ?? run.train.epochs, workers: flags.workers ?? run.train.workers } };
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

async function runTrain(flags: TrainFlags, out: Output, title: string, world: World | null): Promise<void> {
  if (flags.checkpointEvery !== undefined && flags.checkpoint === undefined) throw new UsageError('--checkpoint-every needs --checkpoint FILE');
  const config = flags.resume ? await resumedConfig(flags, flags.resume) : runConfig(flags);
  const warning = world && bindingWarning(config.train.workers ?? availableParallelism());
  if (warning) process.stderr.write(`${rankPrefix(world)}${warning}\n`);
  // The report's optional packages are checked before training, not after it.
  if (flags.report) await (await import('../diagnose/render.js')).chartLibraries();
  // The worker threads boot while the data loads. (The library may still choose fewer workers, for
  // a batch of fewer rows: then it starts its own.)
  // Only as many as the library will accept: a refusal after the data is read must not leave
  // hundreds of threads booting.
  const workers = config.train.workers ?? availableParallelism();
  const { batchSize } = config.train;
  asUsage('--workers', () => checkWorkers(workers, typeof batchSize === 'number' ? batchSize : Number.POSITIVE_INFINITY));
  if (!world && workers > 0) (await import('../train/parallel/pool.js')).startPool(workers);
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
    earlyStopping: config.train.earlyStopping ?? undefined,
    resume: flags.resume,
    checkpoint: flags.checkpoint ? { path: flags.checkpoint, everyEpochs: flags.checkpointEvery, context: { command: title, run: config } } : undefined,
  };
  const resolved = asUsage(TRAIN_OPTION_FLAGS, () => resolveTrainOptions(model, data.train, options));
  config.train.workers = resolved.workers;
  if (world) {
    const workers = config.train.workers === 0 ? 'serial' : plural(config.train.workers, 'worker');
    out.note(`MPI: ${world.library}, ${plural(world.size, 'rank')} × ${workers}, global batch ${resolved.batchSize}`);
    out.event('mpi', { library: world.library, worldSize: world.size, workers: config.train.workers, globalBatch: resolved.batchSize });
  }
  describeRun(out, config, data, resolved.lr, resolved.batchSize);
  if (flags.resume) out.note(`resuming ${flags.resume}`);

  // The probe sees the samples as training will: fitted as train() fits them.
  model.schema = fitSchema(data.train, options);
  const probe = new Probe(model, applySchema(model.schema, data.train), undefined, config.train.seed);
  const diagnostics: Diagnostics[] = [];
  const evalName = data.evalRole === 'test' ? 'test' : 'val';
  const stepsPerEpoch = Math.ceil(data.train.count / resolved.batchSize);
  // The bar shows the epoch's running mean loss: one batch's loss jumps around too much to read.
  let lossSum = 0;
  let seen = 0;
  // The first signal stops the training after its current step; a second one ends the process.
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(exitCodeOf(signal));
    signalled = signal;
    out.note(`fcnn: ${signal}: stopping after the current step (again to exit at once)`);
    aborter.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const record = (history: TrainHistory) => ({
    command: title,
    preset: config.preset,
    // The precision the weights were trained in (a model file serves fp32 inference whatever it is).
    precision: resolved.precision,
    config: { ...config, train: { ...config.train, lr: resolved.lr } },
    results: {
      evalRole: data.evalRole,
      testAccuracy: history.testAccuracy,
      seconds: history.seconds,
      workers: history.workers,
      epochs: history.epochs,
      stopReason: history.stopReason,
    },
  });
  const saveModel = async (history: TrainHistory) => {
    if (!flags.save || (world && world.rank !== 0)) return;
    await save(model, flags.save, { training: record(history) });
    out.note(`saved the model to ${flags.save}`);
  };
  let history: TrainHistory;
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
        out.progress.update({
          label: `epoch ${s.epoch}/${resolved.epochs}`,
          done: s.step,
          total: stepsPerEpoch,
          samplesPerSec: s.samplesPerSec,
          loss: lossSum / seen,
        });
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
    if (err instanceof TrainingAbortedError && signalled) {
      const epochs = err.history.epochs.length;
      if (epochs > 0) await saveModel(err.history);
      const wrote = [err.checkpoint && `the checkpoint ${err.checkpoint}`, epochs > 0 && flags.save && `the model ${flags.save}`].filter(Boolean).join(' and ');
      const after = epochs > 0 ? `after epoch ${err.history.epochs[epochs - 1].epoch}` : 'before the first epoch completed';
      throw new CliError(
        `${signalled === 'SIGINT' ? 'interrupted' : 'terminated'} ${after}${wrote ? `; wrote ${wrote}` : '; nothing written'}`,
        exitCodeOf(signalled),
      );
    }
    if (err instanceof NonFiniteError) throw new CliError(`training stopped: ${err.message}; a lower --lr usually helps`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  out.event('done', {
    testAccuracy: history.testAccuracy,
    ...(history.epochs.at(-1)!.testR2 !== undefined && { testR2: history.epochs.at(-1)!.testR2 }),
    epochs: history.epochs.length,
    seconds: history.seconds,
    workers: history.workers,
    stopReason: history.stopReason,
    ...(world && { rank: history.rank, worldSize: history.worldSize }),
  });
  if (history.stopReason === 'early-stopping')
    out.note(
      `early stopping: ${config.train.earlyStopping!.monitor} did not improve for ${plural(config.train.earlyStopping!.patience, 'epoch')}; the model is epoch ${history.bestEpoch}'s`,
    );
  const final = history.epochs.at(-1)!;
  const result = final.testR2 !== undefined ? `R² ${fixed(final.testR2)}` : `accuracy ${percent(history.testAccuracy)}`;
  out.line(
    `done: ${data.evalRole} ${result} after ${plural(history.epochs.length, 'epoch')} in ${history.seconds.toFixed(1)} s ` +
      `(${history.workers === 0 ? 'serial' : `${history.workers} workers`})`,
  );
  // Every rank holds the same model (train() checked): rank 0 writes it.
  if (world && world.rank !== 0) return;
  await saveModel(history);
  if (history.checkpoint) out.note(`wrote the checkpoint ${history.checkpoint}`);
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
  return {
    actual: data.targets!,
    predicted: probabilities,
    outputs: model.schema.targetNames ?? Array.from({ length: model.outputs }, (_, j) => `output ${j}`),
  };
}

function describeRun(out: Output, config: RunConfig, data: LoadedData, lr: number, batchSize: number): void {
  const { spec } = config.model;
  out.note(`preset ${config.preset}: ${spec.layers.join('-')} ${spec.activation}, ${spec.output} output, ${config.model.loss} loss, init ${config.model.init}`);
  out.note(
    `optimizer ${describeOptimizer(config.train.optimizer)}, lr ${lr}, schedule ${config.train.schedule}, batch ${batchSize}, ${plural(config.train.epochs, 'epoch')}, ${config.train.workers === 0 ? 'serial' : `${config.train.workers} workers`}, ${config.train.precision} products`,
  );
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
  out.line(
    `epoch ${String(e.epoch).padStart(width)}/${epochs}  loss ${e.loss.toFixed(4)}  ${held}  ${e.seconds.toFixed(1)} s  ${rate(e.samplesPerSec)} samples/s`,
  );
}

function fixed(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : v.toPrecision(4);
}

/** The flags behind the training options the library checks in combination (e.g. batchSize with BatchNorm). */
const TRAIN_OPTION_FLAGS: Record<string, string> = {
  epochs: '--epochs',
  batchSize: '--batch-size',
  lr: '--lr',
  seed: '--seed',
  workers: '--workers',
  precision: '--precision',
  earlyStopping: '--early-stopping-monitor',
};

/** The shell's convention: 128 + the signal's number. */
function exitCodeOf(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function flatConfig(config: RunConfig, data: LoadedData, lr: number, batchSize: number): Record<string, string | number | boolean | null> {
  const { spec, init, loss } = config.model;
  return {
    preset: config.preset,
    layers: spec.layers.join('-'),
    activation: spec.activation,
    output:
      spec.sigmoidAlpha !== 1 && (spec.output === 'sigmoid' || spec.activation === 'sigmoid')
        ? `${spec.output} (sigmoid-alpha ${spec.sigmoidAlpha})`
        : spec.output,
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

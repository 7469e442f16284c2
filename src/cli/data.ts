// The data options shared by train, eval and gradcheck: where the samples come from, how much of
// them, which part is held out, and how pixels become inputs. One definition, one loader.
import type { Command } from 'commander';
import { TASKS, type Task } from '../nn/spec.js';
import type { Dataset } from '../data/dataset.js';
import { type CsvOptions, loadCsv } from '../data/csv.js';
import { loadIdx, loadIdxDirectory } from '../data/idx.js';
import { loadMnist } from '../data/mnist.js';
import { NORMALIZATION_KINDS, type Normalization, type NormalizationKind, defaultNormalizationKind, fitNormalization } from '../data/normalize.js';
import { splitDataset, takeFirst } from '../data/split.js';
import { CliError, UsageError, asUsage, between, choice, integer, option } from './options.js';

export type DataSource =
  | { kind: 'mnist' }
  | { kind: 'idx'; dir: string }
  | { kind: 'files'; trainImages: string; trainLabels: string; testImages?: string; testLabels?: string }
  | { kind: 'csv'; file: string; testFile?: string; csv?: CsvFormat };

/** How the CSV files are laid out and which columns are targets (fcnn train/eval/predict --csv). */
export interface CsvFormat {
  /** Target column names or 0-based indices. */
  target: (string | number)[];
  task: Task;
  delimiter: string;
  header: boolean;
}

export interface DataConfig {
  source: DataSource;
  /** Fraction of the training samples held out for evaluation; null: evaluate on the test set. */
  valSplit: number | null;
  /** null: by the features' type (scale for uint8, standardize for float). */
  normalize: NormalizationKind | null;
  /** Only the first `limit` training samples (before the split). */
  limit: number | null;
  /** Seed of the validation split. */
  seed: number;
}

export interface LoadedData {
  train: Dataset;
  /** The test set, or the validation split held out of the training samples. */
  eval: Dataset;
  evalRole: 'test' | 'validation';
  /** Fitted on `train` alone and applied to both. */
  normalization: Normalization;
}

/** Held out when the data has no test set and --val-split is not given. */
const DEFAULT_VAL_SPLIT = 0.25;

export interface DataFlags {
  target?: string;
  task?: Task;
  delimiter?: string;
  header?: boolean;
  data?: 'mnist';
  idx?: string;
  trainImages?: string;
  trainLabels?: string;
  testImages?: string;
  testLabels?: string;
  csv?: string;
  testCsv?: string;
  valSplit?: number;
  normalize?: NormalizationKind;
  limit?: number;
}

/** The flags that choose which samples are used (all but --normalize). */
export const DATA_SOURCE_FLAGS = ['data', 'idx', 'trainImages', 'trainLabels', 'testImages', 'testLabels', 'csv', 'testCsv', 'valSplit', 'limit'] as const;

export function addDataOptions(cmd: Command): Command {
  cmd
    .addOption(option('--data <name>', 'bundled data set: mnist', choice('--data', ['mnist'] as const), 'mnist'))
    .addOption(option('--idx <dir>', 'folder of the four MNIST-layout IDX files (plain or .gz)', String))
    .addOption(option('--train-images <file>', 'IDX training images (plain or .gz)', String))
    .addOption(option('--train-labels <file>', 'IDX training labels', String))
    .addOption(option('--test-images <file>', 'IDX test images', String))
    .addOption(option('--test-labels <file>', 'IDX test labels', String))
    .addOption(option('--csv <file>', 'training CSV: a header line, feature columns and target columns (see --target)', String))
    .addOption(option('--test-csv <file>', 'test CSV, same columns', String))
    .addOption(
      option(
        '--val-split <fraction>',
        `hold out this fraction of the training samples and evaluate on it instead of the test set (used anyway, at ${DEFAULT_VAL_SPLIT}, when there is no test set)`,
        between('--val-split', 0, 1),
      ),
    )
    .addOption(
      option(
        '--normalize <kind>',
        'scale (uint8 ÷255, floats to [0, 1] by their training range), standardize (per feature, fitted on the training samples) or none; kept in the model',
        choice('--normalize', NORMALIZATION_KINDS),
        'scale for integer pixels, standardize for float features',
      ),
    )
    .addOption(option('--limit <n>', 'use only the first n training samples', integer('--limit', 1)));
  return addCsvOptions(cmd);
}

/** The flags that say how a CSV file is laid out (train, eval and predict take them). */
export function addCsvOptions(cmd: Command): Command {
  return cmd
    .addOption(option('--target <columns>', 'CSV target column(s), by name or 0-based index, comma-separated', String, 'label'))
    .addOption(
      option(
        '--task <task>',
        'classification (softmax, cross-entropy), regression (linear output, MSE) or multilabel (sigmoid, binary cross-entropy)',
        choice('--task', TASKS),
        'classification',
      ),
    )
    .addOption(option('--delimiter <char>', 'CSV cell delimiter', parseDelimiter, ','))
    .option('--no-header', 'the CSV has no header line: columns are named by index (0, 1, …)');
}

function parseDelimiter(text: string): string {
  const delimiter = text === '\\t' || text === 'tab' ? '\t' : text;
  if ([...delimiter].length !== 1) throw new UsageError(`--delimiter must be one character (or tab), got ${JSON.stringify(text)}`);
  return delimiter;
}

/** The CSV layout the flags ask for. */
export function csvFormat(flags: DataFlags): CsvFormat {
  const target = (flags.target ?? 'label').split(',').map((t) => t.trim());
  if (target.some((t) => t === '')) throw new UsageError(`--target: an empty column name in ${JSON.stringify(flags.target)}`);
  const header = flags.header ?? true;
  return {
    // Without a header, columns have only their index.
    target: target.map((t) => (!header || /^\d+$/.test(t) ? Number(t) : t)),
    task: flags.task ?? 'classification',
    delimiter: flags.delimiter ?? ',',
    header,
  };
}

/** loadCsv's options for a CSV format, with the default target "label" optional (a file may have no targets). */
export function csvOptions(format: CsvFormat | undefined): CsvOptions {
  if (!format) return {};
  const defaultTarget = format.header && format.target.length === 1 && format.target[0] === 'label';
  return {
    ...(!defaultTarget && { target: format.target }),
    ...(format.task !== 'classification' && { task: format.task }),
    delimiter: format.delimiter,
    header: format.header,
  };
}

/** The data configuration the flags ask for, over the preset's values; refuses conflicting sources. */
export function dataConfig(flags: DataFlags, preset: { limit?: number; valSplit?: number; normalize?: NormalizationKind }, seed: number): DataConfig {
  const given = (['idx', 'trainImages', 'csv'] as const).filter((k) => flags[k] !== undefined);
  const flagName = { idx: '--idx', trainImages: '--train-images', csv: '--csv' };
  if (given.length > 1) throw new UsageError(`${given.map((k) => flagName[k]).join(' and ')} cannot be used together: give one data source`);
  if (given.length === 1 && flags.data !== undefined) throw new UsageError(`--data cannot be combined with ${flagName[given[0]]}`);
  pair(flags.trainImages, flags.trainLabels, '--train-images', '--train-labels');
  pair(flags.testImages, flags.testLabels, '--test-images', '--test-labels');
  if (flags.testImages && !flags.trainImages) throw new UsageError('--test-images needs --train-images and --train-labels');
  if (flags.testCsv && !flags.csv) throw new UsageError('--test-csv needs --csv');

  let source: DataSource = { kind: 'mnist' };
  if (flags.idx) source = { kind: 'idx', dir: flags.idx };
  else if (flags.trainImages)
    source = { kind: 'files', trainImages: flags.trainImages, trainLabels: flags.trainLabels!, testImages: flags.testImages, testLabels: flags.testLabels };
  else if (flags.csv) source = { kind: 'csv', file: flags.csv, testFile: flags.testCsv, csv: csvFormat(flags) };
  return {
    source,
    valSplit: flags.valSplit ?? preset.valSplit ?? null,
    normalize: flags.normalize ?? (flags.csv ? null : (preset.normalize ?? null)),
    limit: flags.limit ?? preset.limit ?? null,
    seed,
  };
}

function pair(a: string | undefined, b: string | undefined, flagA: string, flagB: string): void {
  if ((a === undefined) !== (b === undefined)) throw new UsageError(`${a === undefined ? flagB : flagA} needs ${a === undefined ? flagA : flagB}`);
}

/**
 * Reads the files, limits, splits and normalizes. A held-out split is used when asked or when there
 * is no test set. The normalization is fitted on the training samples unless one is given (a
 * trained model's, which its inputs must keep).
 */
export async function loadData(config: DataConfig, fixed?: Normalization, classNames?: readonly string[] | null): Promise<LoadedData> {
  const { train: all, test } = await readSource(config.source, classNames ?? undefined);
  if (!all.hasLabels) throw new CliError(`${all.source}: the training data has no labels`);
  const limited = config.limit === null ? all : takeFirst(all, config.limit);
  const valSplit = config.valSplit ?? (test ? null : DEFAULT_VAL_SPLIT);
  let train = limited;
  let evalSet: Dataset;
  let evalRole: LoadedData['evalRole'] = 'test';
  if (valSplit !== null) {
    const split = asUsage('--val-split', () => splitDataset(limited, { valSplit, seed: config.seed }));
    train = split.train;
    evalSet = split.validation!;
    evalRole = 'validation';
  } else {
    evalSet = test!;
    if (!evalSet.hasLabels) throw new CliError(`${evalSet.source}: the test data has no labels; give --val-split to evaluate on held-out training samples`);
  }
  const normalization = fixed ?? fitNormalization(config.normalize ?? defaultNormalizationKind(train.images), train);
  return { train: train.withNormalization(normalization), eval: evalSet.withNormalization(normalization), evalRole, normalization };
}

/** `classNames`: a trained model's, which string labels must map to. */
async function readSource(source: DataSource, classNames?: readonly string[]): Promise<{ train: Dataset; test: Dataset | null }> {
  switch (source.kind) {
    case 'mnist':
      return loadMnist();
    case 'idx':
      return loadIdxDirectory(source.dir);
    case 'files': {
      const train = await loadIdx(source.trainImages, source.trainLabels);
      const test = source.testImages ? await loadIdx(source.testImages, source.testLabels!, { classes: train.classes }) : null;
      return { train, test };
    }
    case 'csv': {
      const options = { ...csvOptions(source.csv), ...(classNames && { classNames }) };
      const train = await loadCsv(source.file, options);
      const same = train.labels ? { classes: train.classes, ...(train.classNames && { classNames: train.classNames }) } : {};
      const test = source.testFile ? await loadCsv(source.testFile, { ...options, ...same }) : null;
      return { train, test };
    }
  }
}

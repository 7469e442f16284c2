// The command line's contract with its user: --help works everywhere, and every value that cannot
// be right is refused before training with one line that names the flag and says why (exit 2).
// The table of refusals runs in-process (the same program as the executable); the executable
// itself is run for help, JSON errors and the exit codes of other failures.
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, runInProcess } from './helpers/cli.js';
import { processThreads } from './helpers/datasets.js';

const COMMANDS = ['train', 'eval', 'predict', 'gradcheck', 'export'];

describe('fcnn --help', () => {
  it('lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it.each(COMMANDS)('fcnn %s --help describes its options', async (command) => {
    const r = await runInProcess([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: fcnn ${command}`);
    expect(r.stdout).toContain('--json');
  });

  it('train --help lists the shared data and model options and both presets', async () => {
    const r = await runInProcess(['train', '--help']);
    for (const flag of [
      '--data',
      '--idx',
      '--train-images',
      '--csv',
      '--val-split',
      '--normalize',
      '--limit',
      '--layers',
      '--activation',
      '--output',
      '--sigmoid-alpha',
      '--loss',
      '--norm',
      '--init',
      '--optimizer',
      '--lr',
      '--momentum',
      '--weight-decay',
      '--schedule',
      '--batch-size',
      '--epochs',
      '--workers',
      '--seed',
      '--save',
      '--report',
      '--diagnose',
    ])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/^ {2}seed +--layers 784,128,10 .*--init uniform:0\.5/m);
    expect(r.stdout).toMatch(/^ {2}recommended +--layers/m);
  });
});

// Each: the arguments, and what the one line on stderr must say.
const REFUSALS: [string[], RegExp][] = [
  [['--lr', '-1'], /--lr must be a positive number, got "-1"/],
  [['--lr=0'], /--lr must be a positive number, got "0"/],
  [['--lr', 'fast'], /--lr must be a positive number, got "fast"/],
  [['--layers', '784,0,10'], /--layers: width "0" \(position 2\) must be an integer/],
  [['--layers', '784'], /--layers needs at least an input and an output width/],
  [['--layers', '784,12.5,10'], /--layers: width "12.5"/],
  [['--val-split', '1'], /--val-split must be in \(0, 1\), got "1"/],
  [['--val-split', '0'], /--val-split must be in \(0, 1\), got "0"/],
  [['--val-split', '-0.2'], /--val-split must be in \(0, 1\)/],
  [['--activation', 'swish'], /--activation must be one of relu, leaky_relu, tanh, sigmoid, linear, silu, got "swish"/],
  [['--output', 'softplus'], /--output must be one of softmax, sigmoid, linear/],
  [['--loss', 'hinge'], /--loss must be one of cross-entropy, mse/],
  [['--norm', 'group'], /--norm must be one of none, layer, batch/],
  [['--optimizer', 'rmsprop'], /--optimizer must be one of sgd, momentum, adam, adamw/],
  [['--normalize', 'whiten'], /--normalize must be one of scale, standardize, none/],
  [['--init', 'orthogonal'], /--init: init must be he, he-uniform/],
  [['--init', 'uniform:-1'], /--init: init uniform:A needs a positive limit/],
  [['--schedule', 'linear'], /--schedule: schedule must be constant, step/],
  [['--sigmoid-alpha', '0'], /--sigmoid-alpha must be a positive number/],
  [['--momentum', '1'], /--momentum must be in \[0, 1\)/],
  [['--weight-decay', '-0.1'], /--weight-decay must be a non-negative number/],
  [['--batch-size', '0'], /--batch-size must be an integer ≥ 1, got "0"/],
  [['--epochs', '2.5'], /--epochs must be an integer ≥ 1/],
  [['--workers', '-1'], /--workers must be an integer from 0 to 1024/],
  [['--limit', '0'], /--limit must be an integer ≥ 1/],
  [['--preset', 'best'], /--preset must be one of seed, recommended/],
  [['--loss', 'mse'], /--loss: loss mse is not supported with the softmax output/],
  [['--output', 'sigmoid', '--loss', 'cross-entropy'], /--loss: loss cross-entropy needs the softmax output/],
  [['--optimizer', 'adam', '--momentum', '0.5'], /--momentum applies to --optimizer momentum only/],
  [['--idx', 'a', '--csv', 'b.csv'], /--idx and --csv cannot be used together/],
  [['--train-images', 'a'], /--train-images needs --train-labels/],
  [['--test-csv', 'b.csv'], /--test-csv needs --csv/],
  [['--bogus'], /unknown option '--bogus'/],
  // Refused once the data is read, still before the first step.
  [['--layers', '700,64,10', '--limit', '200'], /--layers: the input width 700 does not match the 784 features per sample of MNIST/],
  [
    ['--layers', '784,64,5', '--limit', '200'],
    /--layers: \S*-labels-idx1-ubyte byte \d+ \(sample \d+\): label \d is outside \[0, 5\), the output layer has 5 units/,
  ],
  [['--norm', 'batch', '--batch-size', '1', '--limit', '200'], /--batch-size: batchSize must be at least 2 with BatchNorm/],
  [['--workers', '1000', '--limit', '200'], /--workers: workers \(1000\) is more than 4 per core of the \d+ available/],
  [['--workers', '2', '--batch-size', '1', '--limit', '200'], /--workers: workers \(2\) is more than the 1 rows of a batch/],
];

describe('fcnn train refuses values that cannot be right', () => {
  it.each(REFUSALS)('%j', async (args, message) => {
    const r = await runInProcess(['train', '--workers', '0', '--epochs', '1', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^fcnn: /);
  });

  it('refuses more workers than it would train with before starting a thread', async () => {
    const before = await processThreads();
    const r = await runInProcess(['train', '--workers', '1000', '--epochs', '1', '--limit', '200']);
    expect(r.code).toBe(2);
    if (before !== null) expect(await processThreads()).toBeLessThanOrEqual(before);
  });

  it('with --json, a refusal is one error event on stdout', async () => {
    const r = await runCli(['train', '--json', '--lr', '-1']);
    expect(r.code).toBe(2);
    const lines = jsonLines(r.stdout);
    expect(lines).toEqual([{ event: 'error', message: '--lr must be a positive number, got "-1"', exitCode: 2 }]);
  });
});

describe('errors that are not usage errors', () => {
  it('a missing data file: one line naming the file, exit 1, no stack trace', async () => {
    const r = await runCli(['train', '--workers', '0', '--csv', '/nonexistent/train.csv']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('fcnn: /nonexistent/train.csv: file not found, expected a CSV file with a header line');
  });

  it('a missing model file, as a JSON error event', async () => {
    const r = await runCli(['eval', '--model', '/nonexistent/m.safetensors', '--json']);
    expect(r.code).toBe(1);
    const [event] = jsonLines(r.stdout);
    expect(event.event).toBe('error');
    expect(event.message).toMatch(/\/nonexistent\/m\.safetensors/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown command and a missing required option are usage errors', async () => {
    const unknown = await runInProcess(['fit']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'fit'/);
    const missing = await runInProcess(['export', '--model', 'm.safetensors']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--onnx <file>' not specified/);
  });
});

// fcnn train's long-run flags: under real signals a child process interrupted by SIGINT or SIGTERM
// keeps its work (checkpoint and model of the last completed epoch), --resume continues it
// exactly, and --early-stopping ends a run that stopped improving.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../src/api/model-file.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { ROOT, jsonLines, runCli } from './helpers/cli.js';

const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const RUN = ['train', '--json', '--limit', '4000', '--batch-size', '32', '--epochs', '5', '--workers', '0'];

let dir: string;
beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'fcnn-interrupt-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs fcnn with `args`, sending `signal` once the first epoch line is out, and `again` once it says it is stopping. */
function signalled(args: string[], signal: NodeJS.Signals, again?: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    let sentAgain = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!sent && stdout.includes('"event":"epoch"')) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (again && !sentAgain && stderr.includes('stopping after the current step')) {
        sentAgain = true;
        child.kill(again);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const epochLosses = (stdout: string) =>
  jsonLines(stdout)
    .filter((e) => e.event === 'epoch')
    .map((e) => [e.epoch, e.loss, e.testAccuracy]);

describe('fcnn train interrupted by a signal', () => {
  it('SIGINT writes the checkpoint and the model of the last completed epoch, exits 130, and --resume finishes the run exactly', async () => {
    const checkpoint = join(dir, 'run.ckpt');
    const model = join(dir, 'model.safetensors');
    const [whole, stopped] = [await runCli(RUN), await signalled([...RUN, '--checkpoint', checkpoint, '--save', model], 'SIGINT')];
    expect(whole.code).toBe(0);
    expect(stopped.code).toBe(130);
    const completed = epochLosses(stopped.stdout).length;
    expect(completed).toBeGreaterThanOrEqual(1);
    expect(completed).toBeLessThan(5);
    expect(stopped.stderr).toContain('SIGINT: stopping after the current step');
    expect(jsonLines(stopped.stdout).pop()).toEqual({
      event: 'error',
      message: `interrupted after epoch ${completed}; wrote the checkpoint ${checkpoint} and the model ${model}`,
      exitCode: 130,
    });
    expect((await readCheckpoint(checkpoint)).state.epoch).toBe(completed);
    const saved = await load(model);
    const state = await readCheckpoint(checkpoint);
    expect(Array.from(saved.params)).toEqual(Array.from(state.params));

    const resumed = await runCli(['train', '--json', '--resume', checkpoint, '--save', model]);
    expect(resumed.code).toBe(0);
    expect(epochLosses(stopped.stdout).concat(epochLosses(resumed.stdout))).toEqual(epochLosses(whole.stdout));
    const done = jsonLines(resumed.stdout).pop()!;
    expect(done).toMatchObject({ event: 'done', epochs: 5, stopReason: 'completed' });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it('SIGTERM exits 143 the same way; a second signal exits at once', async () => {
    const checkpoint = join(dir, 'term.ckpt');
    const stopped = await signalled([...RUN, '--checkpoint', checkpoint], 'SIGTERM');
    expect(stopped.code).toBe(143);
    expect(jsonLines(stopped.stdout).pop()!.message).toMatch(/terminated after epoch \d; wrote the checkpoint .*term\.ckpt/);
    // Full-batch steps of all MNIST on 2 workers take long enough for the second signal to come mid-step.
    const twice = await signalled(
      ['train', '--json', '--batch-size', 'full', '--epochs', '50', '--workers', '2', '--checkpoint', checkpoint],
      'SIGINT',
      'SIGINT',
    );
    expect(twice.code).toBe(130);
    expect(twice.stderr).toContain('SIGINT: stopping after the current step');
    expect(twice.stdout).not.toContain('interrupted after');
  }, 120_000);

  it('refuses configuration flags with --resume, naming them', async () => {
    const checkpoint = join(dir, 'flags.ckpt');
    expect((await runCli(['train', '--limit', '500', '--epochs', '1', '--workers', '0', '--checkpoint', checkpoint])).code).toBe(0);
    const r = await runCli(['train', '--resume', checkpoint, '--lr', '0.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--lr cannot be given with --resume: the run goes on with the configuration saved in .*flags\.ckpt/);
    const every = await runCli(['train', '--checkpoint-every', '2']);
    expect(every.code).toBe(2);
    expect(every.stderr).toMatch(/--checkpoint-every needs --checkpoint FILE/);
  }, 60_000);
});

describe('fcnn train --early-stopping', () => {
  it('stops when the test loss stops improving by the least change, and says so', async () => {
    const r = await runCli([
      'train',
      '--json',
      '--limit',
      '1000',
      '--epochs',
      '30',
      '--workers',
      '0',
      '--early-stopping',
      '1',
      '--early-stopping-min-delta',
      '5',
    ]);
    expect(r.code).toBe(0);
    const done = jsonLines(r.stdout).pop()!;
    expect(done).toMatchObject({ event: 'done', epochs: 2, stopReason: 'early-stopping' });
    expect(r.stderr).toContain("early stopping: testLoss did not improve for 1 epoch; the model is epoch 1's");
  }, 60_000);

  it('refuses its settings without it, and monitors that are not epoch metrics', async () => {
    const stray = await runCli(['train', '--early-stopping-monitor', 'testAccuracy']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--early-stopping-monitor needs --early-stopping PATIENCE/);
    const bad = await runCli(['train', '--early-stopping', '2', '--early-stopping-monitor', 'val_loss']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--early-stopping-monitor must be one of loss, trainAccuracy, testLoss, testAccuracy, testMse, testMae, testR2, testF1, got "val_loss"/,
    );
  }, 60_000);
});

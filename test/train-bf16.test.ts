// Training with bf16 products (precision: 'bf16'): the gradient it computes against the fp32 one,
// the data-parallel engine against the serial one, and the error where the CPU cannot run it.
// Run `npx tsc -p tsconfig.json` first: worker threads and the CLI run dist/.
//
// The tolerance of the gradient. bf16 keeps 8 significant bits: rounding an operand to nearest
// changes it by at most u = 2^-9 of itself, so one product's term a·b moves by at most
// (2u + u²)·|a·b| < 2^-8·|a·b|, and a product of reduction length K by at most 2^-8·Σ_K |a·b| (the
// fp32 sum adds K·2^-24 of that, negligible). A layer's weight gradient dW = dzᵀ·x comes out of one
// such product, and its inputs dz and x carry the errors of the products before it: the forward
// products of every layer and the input-gradient products of the layers above, each a 1-Lipschitz
// step (ReLU, softmax − onehot) from the next. With P the number of bf16 products on the gradient's
// path (L forward, the input gradients above, its own), the test allows, per layer,
//   ‖(dW, db)_bf16 − (dW, db)_fp32‖_F ≤ P·2^-8·‖(Σ_rows |dz|·|x|, Σ_rows |dz|)‖_F.
// In the Frobenius norm, not element by element: where a pre-activation lies within rounding of 0,
// bf16 and fp32 take different sides of the ReLU, a local jump that the norm spreads over the layer.
// fp32's own error (2^-24 relative per term) is far below it. Measured on the net below: 0.06-0.31 of
// the bound; the gradient's relative error is 0.2-3.4% (the first layer's the largest).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/io/fcnn-format.js';
import { native } from '../src/native.js';
import { createModel } from '../src/nn/model.js';
import { Network } from '../src/nn/network.js';
import { checkPrecision } from '../src/train/options.js';
import { train } from '../src/train/trainer.js';
import { blobDataset } from './helpers/datasets.js';
import { ROOT, jsonLines, runCli } from './helpers/cli.js';
import { randomInputs } from './helpers/models.js';

const hasBf16 = native.bf16Kernel() === 'avx512bf16';

describe('bf16 training', () => {
  it.runIf(hasBf16)('computes the fp32 gradient within the normwise bound of its bf16 products', () => {
    const spec = { layers: [96, 64, 48, 10] };
    const model = createModel(spec, { seed: 3 });
    const rows = 200;
    const x = randomInputs(rows, 96, 4);
    const labels = Int32Array.from({ length: rows }, (_, i) => (i * 7) % 10);
    const gradient = (precision: 'fp32' | 'bf16') => {
      const grads = new Float32Array(model.layout.paramCount);
      const net = new Network(model, rows, grads, { precision });
      net.input.set(x);
      net.labels.set(labels);
      net.forward(rows, 'train');
      net.backward(rows, 1 / rows);
      return { grads, net };
    };
    const fp32 = gradient('fp32');
    const bf16 = gradient('bf16');
    const L = spec.layers.length - 1;
    fp32.net.layers.forEach((layer, l) => {
      const { inputs, outputs } = layer.dense;
      const products = L + (L - 1 - l) + 1;
      const input = l > 0 ? fp32.net.layers[l - 1].a : fp32.net.input;
      const bf = bf16.net.layers[l];
      // Squared Frobenius norms of the error and of the magnitude Σ_rows |dz|·|x| (|dz| for the bias).
      let error = 0;
      let magnitude = 0;
      for (let i = 0; i < outputs; i++) {
        let bias = 0;
        for (let r = 0; r < rows; r++) bias += Math.abs(layer.dz[r * outputs + i]);
        error += (bf.dBias[i] - layer.dBias[i]) ** 2;
        magnitude += bias ** 2;
        for (let j = 0; j < inputs; j++) {
          let m = 0;
          for (let r = 0; r < rows; r++) m += Math.abs(layer.dz[r * outputs + i] * input[r * inputs + j]);
          error += (bf.dWeight[i * inputs + j] - layer.dWeight[i * inputs + j]) ** 2;
          magnitude += m ** 2;
        }
      }
      const bound = products * 2 ** -8 * Math.sqrt(magnitude);
      expect(Math.sqrt(error), `layer ${l}`).toBeLessThanOrEqual(bound);
    });
    // The bf16 gradient is not the fp32 one: the products did run in bf16.
    expect(bf16.grads).not.toEqual(fp32.grads);
  });

  it.runIf(hasBf16)('trains the same parameters serially and on 1 or 2 workers, as the fp32 engines do', async () => {
    const data = blobDataset(103, 12, 3, 1);
    const options = { epochs: 2, batchSize: 10, optimizer: 'sgd' as const, lr: 0.1 };
    const run = async (workers: number, precision: 'fp32' | 'bf16' = 'bf16') => {
      const model = createModel({ layers: [12, 64, 48, 3] }, { seed: 2 });
      const history = await train(model, data, { ...options, workers, precision, evalData: data });
      return { model, history };
    };
    const serial = await run(0);
    expect(serial.history.options.precision).toBe('bf16');
    // One worker runs the serial engine's products on the same rows: bit-identical.
    expect((await run(1)).model.params).toEqual(serial.model.params);
    // Two workers sum two shards' gradients in another order than the serial engine: within the
    // tolerance the fp32 engines meet (test/parallel-equivalence.test.ts), far from fp32 training.
    const relative = (a: Float32Array, b: Float32Array) => {
      let scale = 0;
      for (const v of b) scale = Math.max(scale, Math.abs(v));
      let worst = 0;
      a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]) / (Math.abs(b[i]) + 1e-3 * scale))));
      return worst;
    };
    const two = await run(2);
    expect(relative(two.model.params, serial.model.params)).toBeLessThan(1e-4);
    expect(relative((await run(2, 'fp32')).model.params, serial.model.params)).toBeGreaterThan(1e-2);
    expect(two.history.testAccuracy).toBeCloseTo(serial.history.testAccuracy!, 1);
  });

  it.runIf(hasBf16)('fcnn train --precision bf16 on 2 workers learns, and saves the precision with the model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fcnn-bf16-'));
    try {
      const file = join(dir, 'm.safetensors');
      const r = await runCli(['train', '--json', '--precision', 'bf16', '--limit', '4000', '--epochs', '2', '--workers', '2', '--save', file]);
      expect(r.code, r.stderr).toBe(0);
      expect(jsonLines(r.stdout).at(-1)!.testAccuracy as number).toBeGreaterThan(0.85);
      const { training } = await loadModel(file);
      expect(training?.precision).toBe('bf16');
      expect((training!.config as { train: { precision: string } }).train.precision).toBe('bf16');
      // Inference runs fp32 products on the trained weights.
      const e = await runCli(['eval', '--model', file, '--json']);
      expect(e.code, e.stderr).toBe(0);
      expect(jsonLines(e.stdout)[0].accuracy as number).toBeGreaterThan(0.85);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a precision that is not fp32 or bf16, naming the option', () => {
    expect(() => checkPrecision('fp16')).toThrow(`precision must be 'fp32' or 'bf16', got "fp16"`);
    expect(checkPrecision('fp32')).toBe('fp32');
  });

  it('refuses bf16 where the products would only be emulated (FCNN_ISA=avx2), in the library and the CLI', () => {
    const env = { ...process.env, FCNN_ISA: 'avx2' };
    const library = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { checkPrecision } from './dist/src/train/options.js'; try { checkPrecision('bf16'); } catch (e) { console.log(e.message); }`,
      ],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(library.stdout).toContain("precision 'bf16' needs a CPU with AVX512-BF16 (vdpbf16ps) on the avx512 ISA; this one runs the avx2 ISA (FCNN_ISA=avx2)");
    const cli = spawnSync(process.execPath, ['dist/src/cli/main.js', 'train', '--precision', 'bf16'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain("--precision: precision 'bf16' needs a CPU with AVX512-BF16");
  });
});

// fcnn gradcheck: a verdict per parameter tensor and an exit code that scripts can rely on.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../src/util/random.js';
import { jsonLines, runCli, runInProcess } from './helpers/cli.js';
import { temporaryDirectory } from './helpers/models.js';

describe('fcnn gradcheck', () => {
  it('passes on a correct network: exit 0, every tensor of the layout checked', async () => {
    const r = await runCli(['gradcheck', '--layers', '784,16,10', '--batch', '4', '--json']);
    expect(r.code).toBe(0);
    const [e] = jsonLines(r.stdout) as {
      event: string;
      passed: boolean;
      threshold: number;
      tensors: { name: string; maxRelativeError: number; checked: number }[];
    }[];
    expect(e.event).toBe('gradcheck');
    expect(e.passed).toBe(true);
    expect(e.tensors.map((t) => t.name)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    expect(e.tensors.map((t) => t.checked)).toEqual([40, 16, 40, 10]);
    for (const t of e.tensors) expect(t.maxRelativeError).toBeLessThanOrEqual(e.threshold);
  });

  it('fails, with exit code 1 and a FAIL verdict, when the threshold is below float32 rounding', async () => {
    const r = await runCli(['gradcheck', '--layers', '784,8,10', '--batch', '2', '--samples', '5', '--threshold', '1e-12']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}layers\.0\.weight +worst relative error \d\.\d\de-\d+ +\(5 checked\) +FAIL$/m);
    expect(r.stdout).toMatch(/^FAIL: worst \d\.\d\de-\d+, threshold 1e-12$/m);
    expect(r.stderr).toBe('');
  });

  it('checks the other activations, heads and norms the model options describe', async () => {
    const r = await runInProcess([
      'gradcheck',
      '--layers',
      '784,12,8,10',
      '--activation',
      'tanh',
      '--norm',
      'layer',
      '--output',
      'sigmoid',
      '--batch',
      '3',
      '--samples',
      '8',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const [e] = jsonLines(r.stdout) as { loss: string; passed: boolean; tensors: { name: string }[] }[];
    expect(e.loss).toBe('mse');
    expect(e.passed).toBe(true);
    expect(e.tensors.map((t) => t.name)).toContain('layers.1.norm.weight');
  });

  it('checks regression and multi-label models on float targets from a CSV', async () => {
    const { dir, remove } = await temporaryDirectory();
    try {
      const rng = new Random(4);
      const lines = ['a,b,c,y1,y2'];
      for (let r = 0; r < 20; r++) {
        const x = [rng.normal(), rng.normal(), rng.normal()];
        lines.push([...x.map((v) => v.toFixed(3)), (10 + x[0] - 2 * x[1]).toFixed(3), x[2] > 0 ? 1 : 0].join(','));
      }
      const csv = join(dir, 'float.csv');
      writeFileSync(csv, `${lines.join('\n')}\n`);
      for (const [task, loss, target] of [
        ['regression', 'mse', 'y1'],
        ['multilabel', 'bce', 'y2'],
      ]) {
        // The other target column is a feature: 4 inputs.
        const r = await runInProcess(['gradcheck', '--csv', csv, '--target', target, '--task', task, '--layers', '4,6,1', '--batch', '8', '--json']);
        expect(r.code, r.stderr).toBe(0);
        const [e] = jsonLines(r.stdout) as { loss: string; rows: number; passed: boolean }[];
        expect(e).toMatchObject({ loss, rows: 8, passed: true });
      }
    } finally {
      await remove();
    }
  });

  it('refuses model options that cannot be right', async () => {
    const r = await runInProcess(['gradcheck', '--layers', '784,16,3', '--batch', '4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--layers: \S*train-labels-idx1-ubyte byte 8 \(sample 0\): label 5 is outside \[0, 3\), the output layer has 3 units/);
  });
});

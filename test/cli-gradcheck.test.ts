// fcnn gradcheck: a verdict per parameter tensor and an exit code that scripts can rely on.
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, runInProcess } from './helpers/cli.js';

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

  it('refuses model options that cannot be right', async () => {
    const r = await runInProcess(['gradcheck', '--layers', '784,16,3', '--batch', '4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--layers: \S*train-labels-idx1-ubyte byte 8 \(sample 0\): label 5 is outside \[0, 3\), the output layer has 3 units/);
  });
});

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, ONNX_OPSET, onnxOutputName } from '../src/io/onnx.js';
import { referenceForward } from '../src/nn/reference.js';
import { ACTIVATION_NAMES } from '../src/nn/activations.js';
import { OUTPUTS } from '../src/nn/loss.js';
import { NORMS } from '../src/nn/spec.js';
import { expectClose, randomInputs, randomModel, runOnnx, temporaryDirectory } from './helpers/models.js';
import { checkAndDecodeOnnx, pythonWithOnnx } from './helpers/python-onnx.js';

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir, remove } = await temporaryDirectory()));
afterAll(() => remove());

describe('ONNX export run by ONNX Runtime matches the float64 reference (eval mode)', () => {
  const rows = 9;
  let seed = 1;
  for (const norm of NORMS)
    for (const activation of ACTIVATION_NAMES)
      for (const output of OUTPUTS) {
        const modelSeed = seed++;
        it(`${norm} norm, ${activation}, ${output} head`, async () => {
          // A non-default slope and sigmoid scale so that the attributes and the Mul are exercised.
          const model = randomModel({ layers: [6, 7, 5, 4], activation, output, norm, leakySlope: 0.2, sigmoidAlpha: 1.7 }, modelSeed);
          const path = join(dir, `${norm}-${activation}-${output}.onnx`);
          await exportOnnx(path, model);
          const x = randomInputs(rows, 6, 1000 + modelSeed);
          const got = await runOnnx(path, x, rows, 6);
          expect(got.name).toBe(onnxOutputName(model.spec));
          expect(got.dims).toEqual([rows, 4]);
          expectClose(got.data, referenceForward(model.spec, model.params, model.buffers, Float64Array.from(x), rows, 'eval'), 1e-5);
        });
      }

  it('a sigmoid with scale 1 needs no Mul, and a network without hidden layers is one Gemm', async () => {
    for (const [layers, output] of [
      [[5, 3], 'softmax'],
      [[5, 8, 3], 'sigmoid'],
    ] as const) {
      const model = randomModel({ layers: [...layers], activation: 'sigmoid', output, sigmoidAlpha: 1 }, 77);
      const path = join(dir, `plain-${layers.length}.onnx`);
      await exportOnnx(path, model);
      const x = randomInputs(4, 5, 78);
      expectClose((await runOnnx(path, x, 4, 5)).data, referenceForward(model.spec, model.params, model.buffers, Float64Array.from(x), 4, 'eval'), 1e-5);
    }
  });
});

// Read back by Python's onnx, which also runs its checker over every graph fcnn can write.
describe.skipIf(!pythonWithOnnx)('ONNX file structure, read by Python onnx', () => {
  it('every norm, activation and head passes onnx.checker (full check, with shape inference)', async () => {
    const paths: string[] = [];
    let seed = 40;
    for (const norm of NORMS)
      for (const activation of ACTIVATION_NAMES)
        for (const output of OUTPUTS) {
          const model = randomModel({ layers: [6, 7, 5, 4], activation, output, norm, leakySlope: 0.2, sigmoidAlpha: 1.7 }, seed++);
          paths.push(join(dir, `checked-${norm}-${activation}-${output}.onnx`));
          await exportOnnx(paths[paths.length - 1], model);
        }
    const models = checkAndDecodeOnnx(...paths);
    expect(models.map((m) => m.producerName)).toEqual(paths.map(() => 'fcnn'));
  });

  it('declares opset 17, a symbolic batch dimension, and keeps layout names and the spec', async () => {
    const model = randomModel({ layers: [3, 4, 2], norm: 'batch' }, 5);
    const path = join(dir, 'structure.onnx');
    await exportOnnx(path, model);
    const [decoded] = checkAndDecodeOnnx(path);
    expect(decoded.irVersion).toBe('8');
    expect(decoded.opsetImport.map((o) => [o.domain ?? '', Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    const graph = decoded.graph;
    expect(graph.input.map((v) => v.name)).toEqual(['input']);
    expect(graph.input[0].type.tensorType.shape.dim.map((d) => d.dimParam ?? Number(d.dimValue))).toEqual(['N', 3]);
    expect(graph.output.map((v) => v.name)).toEqual(['probabilities']);
    expect(graph.node.map((n) => n.opType)).toEqual(['Gemm', 'BatchNormalization', 'Relu', 'Gemm', 'Softmax']);
    expect(graph.node[0].attribute).toEqual([{ name: 'transB', type: 'INT', i: '1' }]);
    expect(graph.node[4].attribute).toEqual([{ name: 'axis', type: 'INT', i: '-1' }]);
    expect(graph.initializer.map((t) => t.name).sort()).toEqual([
      'layers.0.bias',
      'layers.0.norm.bias',
      'layers.0.norm.running_mean',
      'layers.0.norm.running_var',
      'layers.0.norm.weight',
      'layers.0.weight',
      'layers.1.bias',
      'layers.1.weight',
    ]);
    const weight = graph.initializer.find((t) => t.name === 'layers.0.weight')!;
    expect(weight.dims!.map(Number)).toEqual([4, 3]);
    const raw = Buffer.from(weight.rawData!, 'base64');
    expect(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))).toEqual(model.params.subarray(0, 12));
    expect(JSON.parse(decoded.metadataProps.find((p) => p.key === 'fcnn.spec')!.value)).toEqual(model.spec);
  });

  it('gives layers without norm only their activation, and a scaled sigmoid head a Mul and "outputs"', async () => {
    const model = randomModel({ layers: [3, 4, 4, 2], activation: 'leaky_relu', output: 'sigmoid', sigmoidAlpha: 3 }, 7);
    const path = join(dir, 'structure-plain.onnx');
    await exportOnnx(path, model);
    const [{ graph }] = checkAndDecodeOnnx(path);
    expect(graph.node.map((n) => n.opType)).toEqual(['Gemm', 'LeakyRelu', 'Gemm', 'LeakyRelu', 'Gemm', 'Mul', 'Sigmoid']);
    expect(graph.node[1].attribute).toEqual([{ name: 'alpha', type: 'FLOAT', f: expect.closeTo(0.01, 6) }]);
    expect(graph.output.map((v) => v.name)).toEqual(['outputs']);
    const alpha = graph.initializer.find((t) => t.name === 'sigmoid_alpha')!;
    expect(alpha.dims ?? []).toEqual([]);
    expect(Buffer.from(alpha.rawData!, 'base64').readFloatLE(0)).toBe(3);
  });
});

describe('ONNX export errors', () => {
  it('refuses a model whose slabs do not fit its spec, and leaves no file behind', async () => {
    const model = randomModel({ layers: [3, 4, 2] }, 6);
    const path = join(dir, 'bad.onnx');
    await expect(exportOnnx(path, { ...model, params: model.params.subarray(1) })).rejects.toThrow(/params must be a Float32Array of 26 elements/);
    expect((await readdir(dir)).filter((f) => f.includes('bad'))).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { createModel } from '../src/nn/model.js';
import { Network } from '../src/nn/network.js';
import { Replica, TRAIN_CHUNK } from '../src/train/replica.js';
import { identity } from '../src/train/serial.js';
import { blobs } from './helpers/arrays.js';

describe('replica', () => {
  it('accumulates a batch larger than a chunk into the same gradient as one pass over it', () => {
    const rows = 2 * TRAIN_CHUNK + 37;
    const data = blobs(rows, 12, 3, 4);
    const model = createModel({ layers: [12, 9, 3] }, { seed: 5 });
    const order = identity(rows);

    const chunked = new Float32Array(model.layout.paramCount);
    const replica = new Replica(model, rows, chunked);
    expect(replica.train.capacity).toBe(TRAIN_CHUNK);
    const result = replica.gradient(data, order, 0, rows, 1 / rows);

    const whole = new Float32Array(model.layout.paramCount);
    const net = new Network(model, rows, whole);
    data.gather(order, 0, rows, net.input, net.labels);
    const lossSum = net.forward(rows, 'train');
    net.backward(rows, 1 / rows);

    expect(result.lossSum).toBeCloseTo(lossSum, 6);
    expect(result.correct).toBe(net.correct(rows));
    let worst = 0;
    const scale = Math.max(...whole.map(Math.abs));
    whole.forEach((g, i) => (worst = Math.max(worst, Math.abs(g - chunked[i]) / scale)));
    expect(worst).toBeLessThan(1e-5);
  });

  it('uses the x and dz buffers given to it, and refuses ones missing or too short, naming them', () => {
    const model = createModel({ layers: [12, 9, 3] });
    const grads = new Float32Array(model.layout.paramCount);
    const x = [new Float32Array(5 * 12), new Float32Array(5 * 9)];
    const dz = [new Float32Array(5 * 9), new Float32Array(5 * 3)];
    const net = new Network(model, 5, grads, { x, dz });
    expect(net.input.buffer).toBe(x[0].buffer);
    expect(net.layers[0].a.buffer).toBe(x[1].buffer);
    net.layers.forEach((L, i) => expect(L.dz.buffer).toBe(dz[i].buffer));
    expect(() => new Network(model, 5, grads, { x: [x[0].subarray(1), x[1]] })).toThrow(
      new RangeError('x[0] holds 59 floats, fewer than the 60 the network needs'),
    );
    expect(() => new Network(model, 5, grads, { x, dz: [dz[0]] })).toThrow(new RangeError('dz[1] holds 0 floats, fewer than the 15 the network needs'));
  });

  it('leaves the weight gradients to a hook, layer by layer from the last, once its dz is complete', () => {
    const model = createModel({ layers: [12, 9, 3] }, { seed: 4 });
    const plain = new Network(model, 4, new Float32Array(model.layout.paramCount));
    const hooked = new Network(model, 4, new Float32Array(model.layout.paramCount).fill(NaN));
    for (const net of [plain, hooked]) {
      for (let i = 0; i < net.input.length; i++) net.input[i] = Math.sin(i);
      net.labels.set([0, 1, 2, 1]);
      net.forward(4, 'train');
    }
    const calls: { layer: number; rows: number; dz: Float32Array }[] = [];
    plain.backward(4, 0.25);
    hooked.backward(4, 0.25, false, (layer, rows) => calls.push({ layer, rows, dz: hooked.layers[layer].dz.slice(0, rows * model.layout.layers[layer].outputs) }));
    expect(calls.map((c) => [c.layer, c.rows])).toEqual([[1, 4], [0, 4]]);
    calls.forEach((c) => expect(c.dz).toEqual(plain.layers[c.layer].dz.subarray(0, c.dz.length)));
    expect(hooked.layers[0].dWeight.every(Number.isNaN)).toBe(true);
  });

  it('refuses weight gradients left to a hook when accumulating over chunks', () => {
    const model = createModel({ layers: [12, 9, 3] });
    const net = new Network(model, 4, new Float32Array(model.layout.paramCount));
    net.forward(4, 'train');
    expect(() => net.backward(4, 1, true, () => {})).toThrow('weight gradients left to a hook cannot be accumulated over chunks');
  });

  it('keeps a BatchNorm batch whole: its statistics belong to the whole batch', () => {
    const model = createModel({ layers: [4, 3, 2], norm: 'batch' });
    const replica = new Replica(model, 3 * TRAIN_CHUNK, new Float32Array(model.layout.paramCount));
    expect(replica.train.capacity).toBe(3 * TRAIN_CHUNK);
  });
});

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

  it('keeps a BatchNorm batch whole: its statistics belong to the whole batch', () => {
    const model = createModel({ layers: [4, 3, 2], norm: 'batch' });
    const replica = new Replica(model, 3 * TRAIN_CHUNK, new Float32Array(model.layout.paramCount));
    expect(replica.train.capacity).toBe(3 * TRAIN_CHUNK);
  });
});

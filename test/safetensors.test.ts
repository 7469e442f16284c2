import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../src/io/fcnn-format.js';
import { MAX_HEADER_BYTES, readSafetensors, writeSafetensors, type Tensor } from '../src/io/safetensors.js';
import { layoutOf, view } from '../src/nn/layout.js';
import { NORMS, resolveSpec } from '../src/nn/spec.js';
import { randomModel, temporaryDirectory } from './helpers/models.js';

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir, remove } = await temporaryDirectory()));
afterAll(() => remove());

// An encoder written from the format's description, independent of src/io/safetensors.ts.
function encodeFile(header: unknown, data: Uint8Array, headerLength?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(headerLength ?? BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
}

function littleEndianF32(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  values.forEach((v, k) => new DataView(bytes.buffer).setFloat32(4 * k, v, true));
  return bytes;
}

const bits = (a: Float32Array | Int32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/**
 * Floats whose bit patterns a lossy path would change: −0, a subnormal, the largest float, and
 * unless `finite` (model files refuse them) infinities and NaNs with payloads.
 */
function awkwardFloats(length: number, seed: number, finite = false): Float32Array {
  const out = new Float32Array(length);
  const raw = new Uint32Array(out.buffer);
  const special = finite ? [0x80000000, 0x00000001, 0x7f7fffff, 0x80800000] : [0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x7fc00001, 0xffbadbad];
  for (let k = 0; k < length; k++) {
    raw[k] = k < special.length ? special[k] : Math.imul(k + seed, 2654435761) >>> 0;
    if (finite && (raw[k] & 0x7f800000) === 0x7f800000) raw[k] ^= 0x00800000; // exponent all ones: Inf or NaN
  }
  return out;
}

let fileCount = 0;
async function fileWith(bytes: Uint8Array): Promise<string> {
  const path = join(dir, `case-${fileCount++}.safetensors`);
  await writeFile(path, bytes);
  return path;
}

describe('safetensors round trip', () => {
  it('returns every tensor bit for bit, with its shape, order and the metadata', async () => {
    const tensors = new Map<string, Tensor>([
      ['b', { shape: [3, 4], data: awkwardFloats(12, 1) }],
      ['a', { shape: [5], data: awkwardFloats(5, 2) }],
      ['scalar', { shape: [], data: Float32Array.of(3.5) }],
      ['empty', { shape: [0, 7], data: new Float32Array(0) }],
    ]);
    const metadata = { note: 'ünïcødé ✓', json: '{"x":[1,2]}' };
    const path = join(dir, 'round.safetensors');
    await writeSafetensors(path, { tensors, metadata });
    const back = await readSafetensors(path);
    expect([...back.tensors.keys()]).toEqual(['b', 'a', 'scalar', 'empty']);
    for (const [name, t] of tensors) {
      expect(back.tensors.get(name)!.shape).toEqual(t.shape);
      expect(bits(back.tensors.get(name)!.data)).toEqual(bits(t.data));
    }
    expect({ ...back.metadata }).toEqual(metadata);
  });

  it('keeps I32 tensors as I32, beside F32 ones', async () => {
    const path = join(dir, 'int.safetensors');
    const tensors = new Map<string, Tensor>([
      ['order', { shape: [4], data: Int32Array.of(3, 0, -1, 2 ** 31 - 1) }],
      ['w', { shape: [1], data: Float32Array.of(0.5) }],
    ]);
    await writeSafetensors(path, { tensors, metadata: {} });
    const header = JSON.parse((await readFile(path)).subarray(8, 8 + Number((await readFile(path)).readBigUInt64LE(0))).toString('utf8'));
    expect(header.order.dtype).toBe('I32');
    const back = (await readSafetensors(path)).tensors;
    expect(back.get('order')!.data).toBeInstanceOf(Int32Array);
    expect([...back.get('order')!.data]).toEqual([3, 0, -1, 2 ** 31 - 1]);
    expect(back.get('w')!.data).toBeInstanceOf(Float32Array);
  });

  it('writes the canonical layout: u64 length, JSON header padded to 8 bytes, little-endian data', async () => {
    const path = join(dir, 'canonical.safetensors');
    await writeSafetensors(path, { tensors: new Map([['w', { shape: [2], data: Float32Array.of(1.5, -2) }]]), metadata: { k: 'v' } });
    const file = await readFile(path);
    const n = Number(file.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(file.subarray(8, 8 + n).toString('utf8'));
    expect(header).toEqual({ __metadata__: { k: 'v' }, w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    expect(file.subarray(8 + n)).toEqual(Buffer.from(littleEndianF32([1.5, -2])));
  });

  it('reads a file encoded by hand, with the data in a different order than the header and padding', async () => {
    const header = {
      first: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
      second: { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] },
    };
    const path = await fileWith(encodeFile(`${JSON.stringify(header)}   `, littleEndianF32([3, 4, 1, 2])));
    const back = await readSafetensors(path);
    expect([...back.tensors.get('first')!.data]).toEqual([1, 2]);
    expect([...back.tensors.get('second')!.data]).toEqual([3, 4]);
    expect(back.tensors.get('second')!.shape).toEqual([1, 2]);
    expect({ ...back.metadata }).toEqual({});
  });
});

describe('atomic writes', () => {
  const tensors = new Map([['w', { shape: [2], data: Float32Array.of(1, 2) }]]);

  it('leave only the final file, replacing an older one', async () => {
    const sub = join(dir, 'atomic-ok');
    await mkdir(sub);
    const path = join(sub, 'model.safetensors');
    await writeFile(path, 'old contents');
    await writeSafetensors(path, { tensors, metadata: {} });
    expect(await readdir(sub)).toEqual(['model.safetensors']);
    expect([...(await readSafetensors(path)).tensors.get('w')!.data]).toEqual([1, 2]);
  });

  it('create nothing under the final name when the directory is missing', async () => {
    const path = join(dir, 'no-such-dir', 'model.safetensors');
    await expect(writeSafetensors(path, { tensors, metadata: {} })).rejects.toThrow(/ENOENT/);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it('remove the temporary file when the final rename fails', async () => {
    const sub = join(dir, 'atomic-fail');
    const path = join(sub, 'model.safetensors');
    await mkdir(join(path, 'occupied'), { recursive: true }); // a non-empty directory holds the final name
    await expect(writeSafetensors(path, { tensors, metadata: {} })).rejects.toThrow();
    expect(await readdir(sub)).toEqual(['model.safetensors']);
    expect((await stat(path)).isDirectory()).toBe(true);
  });

  it('refuse tensors whose data does not match their shape before touching the disk', async () => {
    const path = join(dir, 'refused.safetensors');
    const bad = new Map([['w', { shape: [3], data: Float32Array.of(1, 2) }]]);
    await expect(writeSafetensors(path, { tensors: bad, metadata: {} })).rejects.toThrow(/"w" has shape \[3\] but 2 elements/);
    await expect(writeSafetensors(path, { tensors: new Map([['__metadata__', tensors.get('w')!]]), metadata: {} })).rejects.toThrow(/reserved/);
    expect((await readdir(dir)).filter((f) => f.includes('refused'))).toEqual([]);
  });
});

describe('corrupt and hostile safetensors files give clear errors', () => {
  const one = (entry: object) => ({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...entry } });
  const eight = littleEndianF32([1, 2]);
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['shorter than the length field', () => Buffer.from([1, 2, 3, 4, 5]), /5 bytes long, shorter than the 8-byte header length/],
    ['a header length larger than the file', () => encodeFile(one({}), eight, 1000n), /header length 1000 is larger than the \d+ bytes/],
    ['a header length of 2^64 − 1', () => encodeFile(one({}), eight, 2n ** 64n - 1n), /header length 18446744073709551615 is larger/],
    ['a header that is not JSON', () => encodeFile('{"w": {"dtype": "F32"', eight), /header is not valid UTF-8 JSON/],
    ['a header that is not UTF-8', () => encodeFile(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1'), eight), /not valid UTF-8 JSON/],
    ['a header that is a JSON array', () => encodeFile([1, 2], eight), /header is not a JSON object/],
    ['an unsupported dtype', () => encodeFile(one({ dtype: 'F16', shape: [4] }), eight), /"w" has dtype "F16"; only F32 and I32 are supported/],
    ['a negative dimension', () => encodeFile(one({ shape: [-2] }), eight), /"w" has shape \[-2\]/],
    ['a fractional dimension', () => encodeFile(one({ shape: [2.5] }), eight), /"w" has shape \[2.5\]/],
    ['malformed offsets', () => encodeFile(one({ data_offsets: [0] }), eight), /"w" has data_offsets \[0\]/],
    ['offsets ending before they begin', () => encodeFile(one({ data_offsets: [8, 0] }), eight), /end before they begin/],
    [
      'offsets outside the data section',
      () => encodeFile(one({ data_offsets: [8, 16] }), eight),
      /"w" has data_offsets \[8, 16\] outside the data section of 8 bytes/,
    ],
    [
      'a shape that disagrees with the offsets',
      () => encodeFile(one({ shape: [3] }), eight),
      /shape \[3\] \(12 bytes of F32\) but data_offsets \[0, 8\] span 8 bytes/,
    ],
    [
      'a header claiming a 1 TB tensor',
      () => encodeFile(one({ shape: [262144, 1048576], data_offsets: [0, 2 ** 40] }), eight),
      /\[0, 1099511627776\] outside the data section of 8 bytes/,
    ],
    [
      'a shape whose size overflows 64 bits',
      () => encodeFile(one({ shape: [2 ** 40, 2 ** 40, 2 ** 40] }), eight),
      new RegExp(`\\(${4n * 2n ** 120n} bytes of F32\\)`),
    ],
    [
      'overlapping tensors',
      () => encodeFile({ ...one({}), v: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, littleEndianF32([1, 2, 3])),
      /"v" \[4, 12\] overlaps tensor "w" \[0, 8\]/,
    ],
    [
      'a gap between tensors',
      () =>
        encodeFile(
          { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, v: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } },
          littleEndianF32([1, 2, 3]),
        ),
      /bytes 4 to 8 of the data section belong to no tensor/,
    ],
    ['trailing bytes after the tensors', () => encodeFile(one({}), littleEndianF32([1, 2, 3])), /tensors cover 8 bytes but the data section has 12/],
    // JSON.parse keeps the last of repeated keys: the file would hold two tensors of one name.
    [
      'a tensor named twice',
      () =>
        encodeFile(
          '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}, "v":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}, "w" :{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
          eight,
        ),
      /tensor "w" appears twice in the header/,
    ],
    [
      'a name twice once unescaped',
      () => encodeFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x\\"":{}},"\\u0077":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', eight),
      /tensor "w" appears twice in the header/,
    ],
    ['metadata that is not strings', () => encodeFile({ ...one({}), __metadata__: { epochs: 3 } }, eight), /__metadata__.epochs is not a string/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, async () => {
      const path = await fileWith(bytes());
      const error = await readSafetensors(path).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(error?.message).toMatch(message);
      expect(error?.message).toContain(path);
    });
  }

  it('a header longer than the cap, even when the file is that long', async () => {
    const path = await fileWith(encodeFile(one({}), eight, BigInt(MAX_HEADER_BYTES + 1)));
    await truncate(path, MAX_HEADER_BYTES + 64); // sparse: no real disk use
    await expect(readSafetensors(path)).rejects.toThrow(/exceeds the limit of 104857600 bytes/);
  });

  it('a file truncated anywhere', async () => {
    const path = join(dir, 'whole.safetensors');
    await writeSafetensors(path, { tensors: new Map([['w', { shape: [4], data: Float32Array.of(1, 2, 3, 4) }]]), metadata: {} });
    const whole = await readFile(path);
    for (const keep of [0, 7, 8, 20, whole.length - 9, whole.length - 1]) {
      const cut = await fileWith(whole.subarray(0, keep));
      await expect(readSafetensors(cut), `kept ${keep} bytes`).rejects.toThrow(/not a valid safetensors file/);
    }
  });
});

describe('model files', () => {
  for (const norm of NORMS) {
    it(`save → load returns the spec, the slabs bit for bit and the training record (${norm} norm)`, async () => {
      const model = randomModel({ layers: [5, 4, 3, 2], norm, activation: 'tanh', leakySlope: 0.3 }, 50);
      model.params.set(awkwardFloats(model.params.length, 3, true));
      model.buffers.set(awkwardFloats(model.buffers.length, 4, true));
      const training = { optimizer: 'adam', lr: 1e-3, epochs: 3, testAccuracy: 0.9731, history: [{ epoch: 1, loss: 0.41 }] };
      const path = join(dir, `model-${norm}.safetensors`);
      await saveModel(path, { ...model, training });
      const back = await loadModel(path);
      expect(back.spec).toEqual(model.spec);
      expect(bits(back.params)).toEqual(bits(model.params));
      expect(bits(back.buffers)).toEqual(bits(model.buffers));
      expect(back.training).toEqual(training);
      expect((await readSafetensors(path)).metadata.format).toBe('fcnn/1');
    });
  }

  it('loads a model file encoded by hand', async () => {
    const spec = { layers: [2, 1], output: 'sigmoid' };
    const header = {
      __metadata__: { format: 'fcnn/1', spec: JSON.stringify(spec), training: '{"epochs":1}' },
      'layers.0.bias': { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      'layers.0.weight': { dtype: 'F32', shape: [1, 2], data_offsets: [4, 12] },
    };
    const model = await loadModel(await fileWith(encodeFile(header, littleEndianF32([0.5, -1, 2]))));
    expect(model.spec).toEqual(resolveSpec({ layers: [2, 1], output: 'sigmoid' }));
    const [layer] = layoutOf(model.spec).layers;
    expect([...view(model.params, layer.weight)]).toEqual([-1, 2]);
    expect([...view(model.params, layer.bias)]).toEqual([0.5]);
    expect(model.buffers.length).toBe(0);
    expect(model.training).toEqual({ epochs: 1 });
  });

  describe('refuses files that do not describe a valid model', () => {
    const spec = resolveSpec({ layers: [2, 3, 1], norm: 'batch' });
    const meta = (over: Record<string, string | undefined>) =>
      Object.fromEntries(Object.entries({ format: 'fcnn/1', spec: JSON.stringify(spec), training: '{}', ...over }).filter(([, v]) => v !== undefined));
    // The tensors of the spec's layout, packed in order, with optional changes.
    const encodeModel = (metadata: Record<string, string>, edit: (entries: [string, number[]][]) => [string, number[]][] = (e) => e) => {
      const layout = layoutOf(spec);
      const entries = edit([...layout.params, ...layout.buffers].map((t) => [t.name, t.shape]));
      const header: Record<string, unknown> = { __metadata__: metadata };
      let offset = 0;
      for (const [name, shape] of entries) {
        const bytes = 4 * shape.reduce((a, b) => a * b, 1);
        header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
        offset += bytes;
      }
      return encodeFile(header, new Uint8Array(offset));
    };
    const cases: [string, () => Uint8Array, RegExp][] = [
      [
        'no metadata at all',
        () => encodeFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, littleEndianF32([1])),
        /__metadata__.format is undefined, expected "fcnn\/1"/,
      ],
      ['another format', () => encodeModel(meta({ format: 'other/2' })), /__metadata__.format is "other\/2"/],
      ['no spec', () => encodeModel(meta({ spec: undefined })), /__metadata__.spec is missing/],
      ['a spec that is not JSON', () => encodeModel(meta({ spec: '{layers: [2' })), /__metadata__.spec is not valid JSON/],
      [
        'an invalid spec',
        () => encodeModel(meta({ spec: JSON.stringify({ ...spec, activation: 'swish' }) })),
        /__metadata__.spec is invalid: activation must be one of/,
      ],
      ['a training record that is not an object', () => encodeModel(meta({ training: '[1]' })), /__metadata__.training is not a JSON object/],
      [
        'a missing tensor',
        () => encodeModel(meta({}), (e) => e.filter(([n]) => n !== 'layers.0.norm.running_var')),
        /tensor "layers.0.norm.running_var" is missing/,
      ],
      [
        'an extra tensor',
        () => encodeModel(meta({}), (e) => [...e, ['layers.2.weight', [1, 1]]]),
        /tensor "layers.2.weight" is not part of the architecture \[2,3,1\]/,
      ],
      [
        'a tensor of the wrong shape',
        () => encodeModel(meta({}), (e) => e.map(([n, s]) => [n, n === 'layers.1.weight' ? [3, 1] : s])),
        /tensor "layers.1.weight" has shape \[3,1\], expected \[1,3\]/,
      ],
      [
        'a tensor shaped for another architecture',
        () => encodeModel(meta({}), (e) => e.map(([n, s]) => [n, n === 'layers.0.weight' ? [3, 4] : s])),
        /"layers.0.weight" has shape \[3,4\], expected \[3,2\]/,
      ],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, async () => {
        const path = await fileWith(bytes());
        const error = await loadModel(path).then(
          () => undefined,
          (err: Error) => err,
        );
        expect(error?.message).toMatch(message);
        expect(error?.message).toContain(path);
      });
    }
  });

  it('refuses to save slabs that do not fit the spec', async () => {
    const model = randomModel({ layers: [2, 3, 1], norm: 'batch' }, 60);
    const path = join(dir, 'unsaved.safetensors');
    await expect(saveModel(path, { ...model, buffers: new Float32Array(5) })).rejects.toThrow(/buffers must be a Float32Array of 6 elements/);
    await expect(saveModel(path, { ...model, spec: { ...model.spec, normEps: 0 } })).rejects.toThrow(
      /cannot save .*unsaved.safetensors: invalid spec: normEps/,
    );
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });
});

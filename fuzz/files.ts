// The file campaigns: valid small inputs of each format, mutated (bytes flipped, set, inserted,
// deleted, repeated, truncated; header fields set to extreme values) and handed to the loader. The
// only acceptable outcomes are a load or an Error whose message names the file; the exporter
// campaign hands mutated models to the ONNX exporter, whose errors must name the output path.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { save } from '../src/api/model-file.js';
import { readDigitImage } from '../src/cli/image.js';
import { loadCsv } from '../src/data/csv.js';
import { loadIdx } from '../src/data/idx.js';
import { FcnnError } from '../src/errors.js';
import { loadModel } from '../src/io/fcnn-format.js';
import { exportOnnx } from '../src/io/onnx.js';
import { createModel, type Model } from '../src/nn/model.js';
import type { Random } from '../src/util/random.js';
import { type Campaign, type Outcome, pick } from './common.js';

export const FORMATS = ['idx', 'csv', 'safetensors', 'onnx', 'png'] as const;
export type Format = (typeof FORMATS)[number];

const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x2c, 0x0a, 0x22, 0x7b, 0x7d, 0x30, 0x39, 0x2d];
const INTERESTING_U32 = [0, 1, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 60000, 28];

/** 1 to 4 random edits of `input`. */
export function mutate(r: Random, input: Uint8Array): Uint8Array {
  let bytes = Buffer.from(input);
  for (let edits = 1 + r.int(4); edits > 0; edits--) {
    const at = r.int(bytes.length + 1);
    switch (r.int(9)) {
      case 0: // flip a bit
        if (bytes.length) bytes[at % bytes.length] ^= 1 << r.int(8);
        break;
      case 1:
        if (bytes.length) bytes[at % bytes.length] = pick(r, INTERESTING_BYTES);
        break;
      case 2: {
        // a 32-bit field, either byte order
        if (bytes.length < 4) break;
        const pos = Math.min(at, bytes.length - 4);
        const v = pick(r, INTERESTING_U32);
        if (r.uniform() < 0.5) bytes.writeUInt32BE(v, pos);
        else bytes.writeUInt32LE(v, pos);
        break;
      }
      case 3: // insert random bytes
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + r.int(8) }, () => r.int(256))), bytes.subarray(at)]);
        break;
      case 4: // delete a range
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + r.int(16))]);
        break;
      case 5: {
        // repeat a range
        const len = 1 + r.int(64);
        bytes = Buffer.concat([bytes.subarray(0, at + len), bytes.subarray(at, at + len), bytes.subarray(at + len)]);
        break;
      }
      case 6: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 7: // overwrite with digits or text
        bytes.write(pick(r, ['-1', '256', '99999999999', '1e9', 'NaN', '"', ',,', '\n\n', '\r\n', ' ', '\u00e9', '\ufeff']), Math.min(at, bytes.length));
        break;
      case 8: // append junk
        bytes = Buffer.concat([bytes, Buffer.from(Array.from({ length: 1 + r.int(32) }, () => r.int(256)))]);
        break;
    }
  }
  return bytes;
}

/** A loader's error must be one of fcnn's typed errors, naming the file it read. */
function named(err: unknown, path: string): Outcome {
  if (err instanceof FcnnError && err.message.includes(path)) return { kind: err.constructor.name };
  const what = err instanceof FcnnError ? 'does not name' : 'is not a typed FcnnError naming';
  return { kind: 'failure', message: `an error that ${what} ${path}: ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}` };
}

/** A small grayscale PNG: a bright bar on black (the decoders' happy path). */
function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Uint8Array) => {
    let c = ~0;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return ~c >>> 0;
  };
  const chunk = (type: string, data: Uint8Array) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (width + 1));
  for (let y = 2; y < height - 2; y++) rows.fill(230, y * (width + 1) + 1 + (width >> 2), y * (width + 1) + 1 + (width >> 1));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

export class FileCampaign implements Campaign {
  private readonly dir: string;
  private base: Record<string, Buffer> = {};

  private constructor(private readonly format: Format) {
    // Memory-backed when the system has it: tens of thousands of small files are written.
    this.dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `fcnn-fuzz-${format}-`));
  }

  static async create(format: Format): Promise<FileCampaign> {
    const c = new FileCampaign(format);
    const count = 6;
    const images = Uint8Array.from({ length: count * 16 }, (_, i) => (i * 37) & 0xff);
    const labels = Uint8Array.from({ length: count }, (_, i) => i % 4);
    c.base.images = idx([count, 4, 4], images);
    c.base.labels = idx([count], labels);
    c.base.csv = Buffer.from('label,pixel0,pixel1,pixel2,pixel3\n1,0,255,3,4\n0,9,8,7,6\n3,1,1,1,1\n\n2,10,20,30,40\n');
    c.base.png = png(12, 10);
    const modelPath = join(c.dir, 'base.safetensors');
    await save(createModel({ layers: [4, 3, 2], norm: 'batch' }, { seed: 1 }), modelPath, { training: { epochs: 1 } });
    c.base.safetensors = readFileSync(modelPath);
    return c;
  }

  async run(r: Random): Promise<Outcome> {
    const { paths, load } = this.prepare(r);
    try {
      await load();
      return { kind: 'ok' };
    } catch (err) {
      // Of two input files, either may be the one at fault.
      const path = paths.find((p) => err instanceof Error && err.message.includes(p)) ?? paths[0];
      return named(err, path);
    }
  }

  /** Writes case `r`'s input files; `load` reads them as the library would. */
  private prepare(r: Random): { paths: string[]; load: () => Promise<unknown> } {
    switch (this.format) {
      case 'idx': {
        const images = join(this.dir, 'images.idx3'),
          labels = join(this.dir, 'labels.idx1');
        const which = r.int(3);
        const gz = r.uniform() < 0.15;
        const write = (path: string, base: Buffer, changed: boolean) => {
          const bytes = changed ? mutate(r, base) : base;
          writeFileSync(path, gz ? (r.uniform() < 0.5 ? mutate(r, gzipSync(bytes)) : gzipSync(bytes)) : bytes);
        };
        write(images, this.base.images, which !== 1);
        write(labels, this.base.labels, which !== 0);
        const classes = r.uniform() < 0.3 ? 1 + r.int(6) : undefined;
        return { paths: [images, labels], load: () => loadIdx(images, labels, { classes }) };
      }
      case 'csv': {
        const path = join(this.dir, 'data.csv');
        writeFileSync(path, mutate(r, this.base.csv));
        const label = r.uniform() < 0.2 ? pick(r, [null, 0, 'pixel1', 7]) : undefined;
        const classes = r.uniform() < 0.3 ? 1 + r.int(5) : undefined;
        return { paths: [path], load: () => loadCsv(path, { label, classes }) };
      }
      case 'safetensors': {
        const path = join(this.dir, 'model.safetensors');
        writeFileSync(path, r.uniform() < 0.3 ? mutateHeader(r, this.base.safetensors) : mutate(r, this.base.safetensors));
        return { paths: [path], load: () => loadModel(path) };
      }
      case 'onnx': {
        const path = join(this.dir, 'model.onnx');
        const model = mutateModel(r);
        return { paths: [path], load: () => exportOnnx(path, model) };
      }
      case 'png': {
        const path = join(this.dir, 'digit.png');
        writeFileSync(path, r.uniform() < 0.2 ? withSize(r, this.base.png) : mutate(r, this.base.png));
        return { paths: [path], load: () => readDigitImage(path) };
      }
    }
  }

  /** Case `r`'s input, written and left in the campaign's directory (kept by close(true)). */
  describe(r: Random): string {
    if (this.format === 'onnx')
      return `the model ${JSON.stringify(mutateModel(r), (_k, v) => (ArrayBuffer.isView(v) ? `${v.constructor.name}(${(v as Float32Array).length})` : v))}`;
    return `the input files ${this.prepare(r).paths.join(' and ')}`;
  }

  async close(keep = false): Promise<void> {
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The safetensors header as JSON, one field set to a hostile value, written back with its length fixed. */
function mutateHeader(r: Random, file: Buffer): Buffer {
  const length = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + length).toString('utf8')) as Record<string, Record<string, unknown>>;
  const names = Object.keys(header);
  const entry = header[pick(r, names)];
  const hostile = () =>
    pick<unknown>(r, [null, -1, 2 ** 53, 1e300, 'F32', 'F16', [], [0], [1, 2, 3], {}, [2 ** 32, 2 ** 32], [-1, 4], [0, 1e12], 'x'.repeat(r.int(100)), true]);
  const keys = Object.keys(entry);
  if (keys.length && r.uniform() < 0.8) entry[pick(r, keys)] = hostile();
  else entry[`k${r.int(9)}`] = hostile();
  if (r.uniform() < 0.1) header[`${pick(r, names)}.copy`] = { ...entry };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, file.subarray(8 + length)]);
}

/** A model object as the exporter may be handed one: a valid model with its spec or slabs spoiled. */
function mutateModel(r: Random): Model {
  const model = createModel({ layers: [4, 3, 2], norm: pick(r, ['none', 'layer', 'batch'] as const) }, { seed: r.int(100) });
  const spec: Record<string, unknown> = { ...model.spec };
  const hostile = () =>
    pick<unknown>(r, [null, undefined, -1, 0, 0.5, NaN, Infinity, 2 ** 31, 'relu', 'softmax', 'batch', [], [4], [4, 0], [4, 2 ** 21], [4, 3.5, 2], {}, true]);
  const target = { params: model.params as unknown, buffers: model.buffers as unknown };
  for (let edits = 1 + r.int(2); edits > 0; edits--) {
    const roll = r.uniform();
    if (roll < 0.6) spec[pick(r, [...Object.keys(spec), 'extra'])] = hostile();
    else if (roll < 0.8) {
      const key = pick(r, ['params', 'buffers'] as const);
      target[key] = pick<unknown>(r, [new Float32Array(0), new Float32Array(3), new Float64Array(26), null, [1, 2], model.params.subarray(1)]);
    } else {
      model.params[r.int(model.params.length)] = pick(r, [NaN, Infinity, -Infinity, 3e38]);
    }
  }
  return { spec, layout: model.layout, params: target.params, buffers: target.buffers } as unknown as Model;
}

/** The PNG with its declared width and height replaced (the IHDR checksum fixed, so decoders believe it). */
function withSize(r: Random, file: Buffer): Buffer {
  const out = Buffer.from(file);
  const size = () => pick(r, [0, 1, 28, 4096, 15000, 20000, 65535, 0x7fffffff, 0x80000000, 0xffffffff, 1 + r.int(100000)]);
  out.writeUInt32BE(size(), 16);
  out.writeUInt32BE(size(), 20);
  let c = ~0;
  for (const x of out.subarray(12, 29)) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  out.writeUInt32BE(~c >>> 0, 29);
  return out;
}

import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { evaluate } from '../src/api/evaluate.js';
import { loadIdx, loadIdxDirectory } from '../src/data/index.js';
import { createModel } from '../src/nn/model.js';
import { train } from '../src/train/trainer.js';
import { idxBytes, patternBytes, rejection, tempDir, writeIdxPair } from './data-fixtures.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

const count = 37;
const images = patternBytes(count * 5 * 3, 1);
const labels = patternBytes(count, 2, 7);

describe('IDX reader', () => {
  it('loads images and labels with their shape, count and classes', async () => {
    writeIdxPair(tmp.path('a-images'), tmp.path('a-labels'), images, labels, [5, 3]);
    const ds = await loadIdx(tmp.path('a-images'), tmp.path('a-labels'));
    expect(ds.count).toBe(count);
    expect(ds.width).toBe(15);
    expect(ds.shape).toEqual([5, 3]);
    expect(ds.classes).toBe(Math.max(...labels) + 1);
    expect(ds.hasLabels).toBe(true);
    expect(Array.from(ds.images)).toEqual(Array.from(images));
    expect(Array.from(ds.labels!)).toEqual(Array.from(labels));
    expect(ds.images.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(ds.labels!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(ds.description).toContain(`${count} samples of 5×3`);
  });

  it('takes classes from the options, so a class absent from the file still counts', async () => {
    const ds = await loadIdx(tmp.path('a-images'), tmp.path('a-labels'), { classes: 12, source: 'tiny' });
    expect(ds.classes).toBe(12);
    expect(ds.source).toBe('tiny');
  });

  it('reads gzip-compressed files to the same bytes, by name or by magic number alone', async () => {
    writeIdxPair(tmp.path('a-images.gz'), tmp.path('a-labels.gz'), images, labels, [5, 3], true);
    writeFileSync(tmp.path('gz-without-suffix'), readFileSync(tmp.path('a-images.gz')));
    const plain = await loadIdx(tmp.path('a-images'), tmp.path('a-labels'));
    for (const imagesPath of [tmp.path('a-images.gz'), tmp.path('gz-without-suffix')]) {
      const gz = await loadIdx(imagesPath, tmp.path('a-labels.gz'));
      expect(Array.from(gz.images)).toEqual(Array.from(plain.images));
      expect(Array.from(gz.labels!)).toEqual(Array.from(plain.labels!));
      expect(gz.shape).toEqual(plain.shape);
    }
  });

  it('loads a directory in the MNIST layout, plain, .gz or with the mirror spelling', async () => {
    const testImages = patternBytes(4 * 15, 3);
    const testLabels = patternBytes(4, 4, 7);
    const layouts: [string, (s: string, k: string, d: number) => string, boolean][] = [
      ['plain', (s, k, d) => `${s}-${k}-idx${d}-ubyte`, false],
      ['gz', (s, k, d) => `${s}-${k}-idx${d}-ubyte.gz`, true],
      ['mirror', (s, k, d) => `${s}-${k}.idx${d}-ubyte`, false],
    ];
    for (const [name, file, gz] of layouts) {
      const dir = join(tmp.dir, `dir-${name}`);
      mkdirSync(dir);
      writeIdxPair(join(dir, file('train', 'images', 3)), join(dir, file('train', 'labels', 1)), images, labels, [5, 3], gz);
      writeIdxPair(join(dir, file('t10k', 'images', 3)), join(dir, file('t10k', 'labels', 1)), testImages, testLabels, [5, 3], gz);
      const { train, test } = await loadIdxDirectory(dir, { source: 'Tiny' });
      expect(train.count).toBe(count);
      expect(test.count).toBe(4);
      expect(Array.from(test.images)).toEqual(Array.from(testImages));
      expect(Array.from(test.labels!)).toEqual(Array.from(testLabels));
      expect(train.source).toBe('Tiny train');
      expect(test.source).toBe('Tiny test');
    }
  });
});

describe('IDX reader rejects bad input with a message naming the file and the problem', () => {
  const good = idxBytes([count, 5, 3], images);
  const goodLabels = idxBytes([count], labels);
  writeFileSync(tmp.path('good-images'), good);
  writeFileSync(tmp.path('good-labels'), goodLabels);

  async function imagesError(name: string, bytes: Uint8Array | string, options = {}): Promise<string> {
    writeFileSync(tmp.path(name), bytes);
    return rejection(loadIdx(tmp.path(name), tmp.path('good-labels'), options));
  }
  async function labelsError(name: string, bytes: Uint8Array, options = {}): Promise<string> {
    writeFileSync(tmp.path(name), bytes);
    return rejection(loadIdx(tmp.path('good-images'), tmp.path(name), options));
  }

  it('a missing file', async () => {
    const message = await rejection(loadIdx(tmp.path('nothing-here'), tmp.path('good-labels')));
    expect(message).toContain(tmp.path('nothing-here'));
    expect(message).toContain('file not found');
  });

  it('a directory', async () => {
    const message = await rejection(loadIdx(tmp.dir, tmp.path('good-labels')));
    expect(message).toContain('is a directory');
  });

  it('a directory without the MNIST files', async () => {
    const dir = join(tmp.dir, 'empty-dir');
    mkdirSync(dir);
    const message = await rejection(loadIdxDirectory(dir));
    expect(message).toContain(dir);
    expect(message).toContain('train-images-idx3-ubyte.gz');
  });

  it('an empty file', async () => {
    const message = await imagesError('empty', new Uint8Array(0));
    expect(message).toContain(tmp.path('empty'));
    expect(message).toContain('empty file');
  });

  it('a file shorter than the magic number', async () => {
    expect(await imagesError('three-bytes', Uint8Array.of(0, 0, 8))).toContain('3 bytes, too short');
  });

  it('a wrong magic number', async () => {
    const text = await imagesError('text', 'label,pixel0\n1,2\n');
    expect(text).toContain('not an IDX file');
    expect(text).toContain('offset 0 is 0x6c616265'); // "labe"
    expect(text).toContain('expected 0x00000803');
  });

  it('labels given as images and images given as labels', async () => {
    expect(await imagesError('labels-as-images', goodLabels)).toMatch(/1 dimension\(s\) \(magic 0x00000801\), expected 0x00000803/);
    expect(await labelsError('images-as-labels', good)).toMatch(/3 dimension\(s\) \(magic 0x00000803\), expected 0x00000801/);
  });

  it('a data type other than unsigned byte', async () => {
    const floats = good.slice();
    floats[2] = 0x0d;
    const message = await imagesError('float-idx', floats);
    expect(message).toContain('data type 0x0d at offset 2 is not supported, expected 0x08');
  });

  it('a header cut short', async () => {
    expect(await imagesError('short-header', good.subarray(0, 10))).toContain('truncated IDX header: 3 dimensions need 16 bytes, the file has 10');
  });

  it('truncated data', async () => {
    const message = await imagesError('truncated', good.subarray(0, good.length - 1));
    expect(message).toContain(`truncated: the IDX images dimensions ${count} × 5 × 3 need ${good.length} bytes`);
    expect(message).toContain(`has ${good.length - 1}`);
  });

  it('trailing bytes', async () => {
    const longer = new Uint8Array(good.length + 2);
    longer.set(good);
    expect(await imagesError('trailing', longer)).toContain(`trailing bytes: the IDX images dimensions ${count} × 5 × 3 need ${good.length} bytes`);
  });

  it('image and label files with different counts', async () => {
    const message = await labelsError('fewer-labels', idxBytes([count - 1], labels.subarray(1)));
    expect(message).toContain(`holds ${count} images but`);
    expect(message).toContain(`holds ${count - 1} labels`);
  });

  it('a label outside [0, classes)', async () => {
    const bad = labels.slice();
    bad[5] = 9;
    const message = await labelsError('label-9', idxBytes([count], bad), { classes: 7 });
    expect(message).toContain(tmp.path('label-9'));
    expect(message).toContain(`${tmp.path('label-9')} byte 13 (sample 5): label 9 is outside [0, 7), the classes given`);
  });

  it("a label beyond the model's outputs, named by file and byte when training and evaluating", async () => {
    const bad = labels.slice();
    bad[11] = 200;
    for (const gz of [false, true]) {
      const [imagesPath, labelsPath] = [tmp.path(`big-images${gz ? '.gz' : ''}`), tmp.path(`big-labels${gz ? '.gz' : ''}`)];
      writeIdxPair(imagesPath, labelsPath, images, bad, [5, 3], gz);
      const ds = await loadIdx(imagesPath, labelsPath);
      expect(ds.classes).toBe(201);
      const where = `${labelsPath} byte 19${gz ? ' once decompressed' : ''} (sample 11): label 200 is outside [0, 7), the model has 7 outputs`;
      const model = createModel({ layers: [15, 7] }, { seed: 1 });
      await expect(train(model, ds, { epochs: 1, workers: 0 })).rejects.toThrow(where);
      await expect(evaluate(model, ds)).rejects.toThrow(where);
      // A subset (a validation split) still names the file's byte.
      await expect(train(model, ds.subset([0, 11, 2], 'part'), { epochs: 1, workers: 0 })).rejects.toThrow(where);
    }
  });

  it('a corrupt gzip stream', async () => {
    const gz = gzipSync(good);
    const flipped = new Uint8Array(gz); // a copy (Buffer.slice would be a view)
    for (let i = 12; i < 40; i++) flipped[i] ^= 0x5a;
    expect(await imagesError('flipped.gz', flipped)).toMatch(/flipped\.gz: corrupt gzip stream: /);
    expect(await imagesError('cut.gz', gz.subarray(0, gz.length >> 1))).toMatch(/cut\.gz: corrupt gzip stream: unexpected end of file/);
  });

  it('a .gz name over plain bytes', async () => {
    expect(await imagesError('plain.gz', good)).toContain('named .gz but not gzip-compressed (expected bytes 1f 8b at offset 0, found 00 00)');
  });

  it('gzip-compressed bytes whose content is bad get the same checks', async () => {
    expect(await imagesError('truncated.gz', gzipSync(good.subarray(0, good.length - 4)))).toContain('truncated: the IDX images dimensions');
  });
});

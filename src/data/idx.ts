// IDX files of unsigned bytes (the format of MNIST, Fashion-MNIST, EMNIST), plain or gzip-compressed.
// Layout: two zero bytes, a data-type byte (0x08 = unsigned byte), the number of dimensions, then
// one big-endian uint32 per dimension, then the data. Plain files are read straight into the
// SharedArrayBuffer the Dataset keeps, so loading MNIST costs one read and no copy.
import type { FileHandle } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DataFormatError } from '../errors.js';
import { Dataset } from './dataset.js';
import { sharedBytes } from '../util/shared-memory.js';
import { openDataFile, readFully } from './files.js';

const gunzipAsync = promisify(gunzip);

const UNSIGNED_BYTE = 0x08;
const GZIP_MAGIC = [0x1f, 0x8b];
/** 4 bytes of magic number and at most 255 big-endian uint32 dimensions. */
const MAX_HEADER = 4 + 4 * 255;

export interface IdxOptions {
  /** Number of classes; every label must be below it. Defaults to the largest label + 1. */
  classes?: number;
  /** Name of the data in descriptions; defaults to the images file name. */
  source?: string;
}

interface IdxArray {
  dims: number[];
  data: Uint8Array;
  /** Where data starts in the (decompressed) file. */
  headerBytes: number;
  compressed: boolean;
}

/** Loads an images file (≥ 2 dimensions: count × …) and its labels file (1 dimension). */
export async function loadIdx(imagesPath: string, labelsPath: string, options: IdxOptions = {}): Promise<Dataset> {
  const images = await readIdx(imagesPath, 'images');
  const labels = await readIdx(labelsPath, 'labels');
  const count = images.dims[0];
  if (labels.dims[0] !== count)
    throw new DataFormatError({ file: labelsPath }, `${imagesPath} holds ${count} images but ${labelsPath} holds ${labels.dims[0]} labels; they must match`);
  const shape = images.dims.slice(1);
  return new Dataset({
    images: images.data,
    labels: labels.data,
    count,
    width: shape.reduce((a, b) => a * b, 1),
    shape,
    classes: options.classes,
    source: options.source ?? basename(imagesPath),
    labelAt: (sample) => ({
      file: labelsPath,
      offset: labels.headerBytes + sample,
      text: `${labelsPath} byte ${labels.headerBytes + sample}${labels.compressed ? ' once decompressed' : ''} (sample ${sample})`,
    }),
  });
}

/** The four MNIST-layout files found in `dir` (each plain or .gz), as { train, test }. */
export async function loadIdxDirectory(dir: string, options: IdxOptions = {}): Promise<{ train: Dataset; test: Dataset }> {
  const name = options.source ?? basename(dir);
  const load = (split: 'train' | 't10k', label: string) =>
    loadIdx(findIdxFile(dir, split, 'images', 3), findIdxFile(dir, split, 'labels', 1), { ...options, source: `${name} ${label}` });
  return { train: await load('train', 'train'), test: await load('t10k', 'test') };
}

/** train-images-idx3-ubyte, or its .gz, or the train-images.idx3-ubyte spelling of some mirrors. */
function findIdxFile(dir: string, split: string, kind: string, dims: number): string {
  const candidates = [`${split}-${kind}-idx${dims}-ubyte`, `${split}-${kind}.idx${dims}-ubyte`].flatMap((n) => [n, `${n}.gz`]);
  for (const candidate of candidates) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  throw new DataFormatError({ file: dir }, `${dir}: no ${split} ${kind} file; looked for ${candidates.join(', ')}`);
}

async function readIdx(path: string, role: 'images' | 'labels'): Promise<IdxArray> {
  const { file, size } = await openDataFile(path, `an IDX ${role} file`);
  try {
    if (size === 0) throw new DataFormatError({ file: path, offset: 0 }, `${path}: empty file, expected an IDX ${role} file`);
    const head = new Uint8Array(Math.min(size, MAX_HEADER));
    await readFully(path, file, head, 0);
    if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) return parseIdx(path, role, await gunzipFile(path, file));
    if (path.endsWith('.gz'))
      throw new DataFormatError(
        { file: path, offset: 0 },
        `${path}: named .gz but not gzip-compressed (expected bytes 1f 8b at offset 0, found ${hex(head[0])} ${hex(head[1] ?? 0)})`,
      );
    const dims = parseHeader(path, role, head, size);
    const headerBytes = 4 + 4 * dims.length;
    const data = sharedBytes(size - headerBytes);
    await readFully(path, file, data, headerBytes);
    return { dims, data, headerBytes, compressed: false };
  } finally {
    await file.close();
  }
}

/** A decompressed IDX image in memory: the same checks as a plain file, then one copy into shared memory. */
function parseIdx(path: string, role: 'images' | 'labels', bytes: Uint8Array): IdxArray {
  if (bytes.length === 0) throw new DataFormatError({ file: path, offset: 0 }, `${path}: decompresses to nothing, expected an IDX ${role} file`);
  const dims = parseHeader(path, role, bytes, bytes.length);
  const data = sharedBytes(bytes.length - 4 - 4 * dims.length);
  data.set(bytes.subarray(bytes.length - data.length));
  return { dims, data, headerBytes: bytes.length - data.length, compressed: true };
}

/**
 * Dimensions from the header that starts `head`, checked against the magic number and against
 * the total length `size`, so that truncated or padded files fail here rather than mid-training.
 */
function parseHeader(path: string, role: 'images' | 'labels', head: Uint8Array, size: number): number[] {
  if (size < 4) throw new DataFormatError({ file: path, offset: size }, `${path}: ${size} bytes, too short for an IDX header (4 bytes of magic number)`);
  const found = `0x${[...head.subarray(0, 4)].map((b) => hex(b)).join('')}`;
  const expected = role === 'images' ? '0x00000803 (unsigned-byte images)' : '0x00000801 (unsigned-byte labels)';
  if (head[0] !== 0 || head[1] !== 0)
    throw new DataFormatError({ file: path, offset: 0 }, `${path}: not an IDX file: magic number at offset 0 is ${found}, expected ${expected}`);
  if (head[2] !== UNSIGNED_BYTE)
    throw new DataFormatError(
      { file: path, offset: 2 },
      `${path}: IDX data type 0x${hex(head[2])} at offset 2 is not supported, expected 0x08 (unsigned byte)`,
    );
  const rank = head[3];
  if (role === 'labels' ? rank !== 1 : rank < 2)
    throw new DataFormatError({ file: path, offset: 3 }, `${path}: IDX file with ${rank} dimension(s) (magic ${found}), expected ${expected}`);
  if (size < 4 + 4 * rank)
    throw new DataFormatError(
      { file: path, offset: size },
      `${path}: truncated IDX header: ${rank} dimensions need ${4 + 4 * rank} bytes, the file has ${size}`,
    );
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const needed = 4 + 4 * rank + dims.reduce((a, b) => a * b, 1);
  if (needed !== size) {
    const what = size < needed ? 'truncated' : 'trailing bytes';
    throw new DataFormatError(
      { file: path, offset: Math.min(size, needed) },
      `${path}: ${what}: the IDX ${role} dimensions ${dims.join(' × ')} need ${needed} bytes (header included), the data has ${size}`,
    );
  }
  return dims;
}

async function gunzipFile(path: string, file: FileHandle): Promise<Uint8Array> {
  const compressed = await file.readFile();
  try {
    return await gunzipAsync(compressed);
  } catch (err) {
    throw new DataFormatError({ file: path }, `${path}: corrupt gzip stream: ${(err as Error).message}`, { cause: err });
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

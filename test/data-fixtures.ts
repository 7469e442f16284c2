// Small data files written by the tests themselves, in a fresh temporary folder per test file.
import { expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Random } from '../src/util/random.js';

/** A temporary folder and a cleanup function for afterAll. */
export function tempDir(): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fcnn-data-'));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The bytes of an unsigned-byte IDX file: 0, 0, 0x08, rank, big-endian dimensions, data. */
export function idxBytes(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Writes images (count × rows × cols) and labels as IDX files, gzip-compressed when gz. */
export function writeIdxPair(imagesPath: string, labelsPath: string, images: Uint8Array, labels: Uint8Array, shape: [number, number], gz = false): void {
  const pack = (b: Uint8Array) => (gz ? gzipSync(b) : b);
  writeFileSync(imagesPath, pack(idxBytes([labels.length, ...shape], images)));
  writeFileSync(labelsPath, pack(idxBytes([labels.length], labels)));
}

/** Seeded random bytes below `modulo`. */
export function patternBytes(length: number, seed: number, modulo = 256): Uint8Array {
  const random = new Random(seed);
  return Uint8Array.from({ length }, () => random.int(modulo));
}

/** The message of the Error that `promise` rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return (err as Error).message;
  }
  throw new Error('expected the promise to reject');
}

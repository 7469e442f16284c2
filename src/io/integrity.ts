// What makes an fcnn file impossible to load silently wrong: a checksum of its tensor data, kept
// in the metadata and verified on load (a flipped bit inside a tensor passes every structural
// check of the format), and a refusal of parameters that are not finite numbers (a model whose
// weights are NaN would otherwise evaluate to NaN probabilities without a word).
import { createHash } from 'node:crypto';
import { ModelFileError } from '../errors.js';
import { type Safetensors, type Tensor, readSafetensors, writeSafetensors } from './safetensors.js';

/** The metadata key of the checksum; files written before it existed have none and still load. */
export const CHECKSUM_KEY = 'data_sha256';

/** SHA-256 of the tensors' bytes in the given order (a file's order, so: of its data section). */
export function tensorChecksum(tensors: Iterable<Tensor>): string {
  const hash = createHash('sha256');
  for (const { data } of tensors) hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return hash.digest('hex');
}

/** Throws unless the metadata's checksum, when there is one, matches the tensors read. */
export function verifyChecksum(tensors: Map<string, Tensor>, metadata: Record<string, string>, fail: (problem: string) => Error): void {
  const expected = metadata[CHECKSUM_KEY];
  if (expected === undefined) return;
  const actual = tensorChecksum(tensors.values());
  if (actual !== expected)
    throw fail(`the tensor data does not match its checksum (__metadata__.${CHECKSUM_KEY} ${expected}, computed ${actual}): the file is corrupt`);
}

/** Throws naming the tensor and flat index of its first NaN or infinite value. */
export function requireFinite(name: string, data: Float32Array, fail: (problem: string) => Error): void {
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) throw fail(`tensor ${JSON.stringify(name)} has the non-finite value ${data[i]} at index ${i}`);
}

/** Writes a safetensors file whose metadata carries the checksum of its tensors. */
export function writeChecked(path: string, contents: Safetensors): Promise<void> {
  if (CHECKSUM_KEY in contents.metadata) throw new RangeError(`cannot write ${path}: __metadata__.${CHECKSUM_KEY} is reserved for the checksum`);
  const metadata = { ...contents.metadata, [CHECKSUM_KEY]: tensorChecksum(contents.tensors.values()) };
  return writeSafetensors(path, { tensors: contents.tensors, metadata });
}

/** Reads a safetensors file, verifying its checksum when it has one. */
export async function readChecked(path: string): Promise<Safetensors> {
  const file = await readSafetensors(path);
  verifyChecksum(file.tensors, file.metadata, (problem) => new ModelFileError(path, `${path}: ${problem}`));
  return file;
}

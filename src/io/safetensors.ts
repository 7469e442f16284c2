// The safetensors format (huggingface/safetensors): an 8-byte little-endian u64 header length N,
// N bytes of JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}},
// then the raw little-endian tensor bytes, offsets relative to the end of the header.
// F32 and I32 (a checkpoint's sample order) are supported. A file is untrusted input: the header
// is checked completely (sizes with BigInt, offsets against the real file size) before any buffer
// sized by it is allocated.
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { ModelFileError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export interface Tensor {
  shape: number[];
  /** F32 or I32 data. */
  data: Float32Array | Int32Array;
}

export interface Safetensors {
  /** In file order when read; written in the Map's order. */
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Headers of real models are kilobytes; the cap stops a hostile length from allocating gigabytes. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** Both supported dtypes have 4-byte elements. */
const ELEMENT_BYTES = 4;

export async function writeSafetensors(path: string, contents: Safetensors): Promise<void> {
  requireLittleEndianHost();
  const header: Record<string, unknown> = Object.create(null);
  header.__metadata__ = checkedMetadata(contents.metadata, (problem) => new ModelFileError(path, `cannot write ${path}: ${problem}`));
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, { shape, data }] of contents.tensors) {
    const fail = (problem: string) => new ModelFileError(path, `cannot write ${path}: tensor ${JSON.stringify(name)} ${problem}`, name);
    if (name === '' || name === '__metadata__') throw fail('has a reserved name');
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw fail(`has an invalid shape ${JSON.stringify(shape)}`);
    const elements = shape.reduce((a, b) => a * b, 1);
    if (elements !== data.length) throw fail(`has shape ${JSON.stringify(shape)} but ${data.length} elements`);
    header[name] = { dtype: data instanceof Int32Array ? 'I32' : 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  // Space padding (allowed by the format) makes the data start 8-byte aligned, so readers that
  // map the file can view the tensors in place.
  const json = JSON.stringify(header);
  const headerBytes = Buffer.from(json + ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));
  await writeFileAtomic(path, [prefix, headerBytes, ...chunks]);
}

export async function readSafetensors(path: string): Promise<Safetensors> {
  requireLittleEndianHost();
  const fail: Fail = (problem, tensor) => new ModelFileError(path, `${path}: not a valid safetensors file: ${problem}`, tensor);
  const file = await openModelFile(path);
  try {
    const size = (await file.stat()).size;
    if (size < 8) throw fail(`it is ${size} bytes long, shorter than the 8-byte header length`);
    const headerLength = (await readExactly(file, 8, 0, path)).readBigUInt64LE(0);
    if (headerLength > BigInt(size - 8)) throw fail(`the header length ${headerLength} is larger than the ${size - 8} bytes that follow it (truncated file?)`);
    if (headerLength > BigInt(MAX_HEADER_BYTES)) throw fail(`the header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
    const headerBytes = await readExactly(file, Number(headerLength), 8, path);
    const dataStart = 8 + headerBytes.length;
    const { entries, metadata } = parseHeader(headerBytes, size - dataStart, fail);

    const data = new Uint8Array(size - dataStart);
    await readInto(file, data, dataStart, path);
    const tensors = new Map<string, Tensor>();
    for (const { name, dtype, shape, begin, end } of entries) {
      const Type = dtype === 'I32' ? Int32Array : Float32Array;
      tensors.set(name, { shape, data: new Type(data.buffer, begin, (end - begin) / ELEMENT_BYTES) });
    }
    return { tensors, metadata };
  } finally {
    await file.close();
  }
}

/** The error for a problem in the file, naming the tensor it is about, if one. */
type Fail = (problem: string, tensor?: string) => Error;

async function openModelFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ModelFileError(path, `${path}: ${why}, expected a safetensors model file`, undefined, { cause: err });
  }
}

interface Entry {
  name: string;
  dtype: 'F32' | 'I32';
  shape: number[];
  begin: number;
  end: number;
}

/**
 * The first key that the top-level object of `json` (valid JSON) repeats, or null. JSON.parse
 * keeps the last of them, so a file could hold two tensors of one name and load either.
 */
function repeatedKey(json: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      let next = end + 1;
      while (json[next] === ' ' || json[next] === '\t' || json[next] === '\n' || json[next] === '\r') next++;
      // A string at depth 1 followed by a colon is a key of the top-level object.
      if (depth === 1 && json[next] === ':') {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
      }
      i = end;
    }
  }
  return null;
}

/** Validates the whole header against a data section of `dataLength` bytes; entries come sorted by offset. */
function parseHeader(bytes: Uint8Array, dataLength: number, fail: Fail): { entries: Entry[]; metadata: Record<string, string> } {
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    header = JSON.parse(text);
  } catch (err) {
    throw fail(`the header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail('the header is not a JSON object');
  const twice = repeatedKey(text);
  if (twice !== null) throw fail(`tensor ${JSON.stringify(twice)} appears twice in the header`);

  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = checkedMetadata(value, fail);
      continue;
    }
    const bad = (problem: string) => fail(`tensor ${JSON.stringify(name)} ${problem}`, name);
    if (typeof value !== 'object' || value === null) throw bad('is not described by an object');
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (dtype !== 'F32' && dtype !== 'I32') throw bad(`has dtype ${JSON.stringify(dtype)}; only F32 and I32 are supported`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad(`has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      throw bad(`has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with non-negative integers`);
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw bad(`has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > dataLength) throw bad(`has data_offsets [${begin}, ${end}] outside the data section of ${dataLength} bytes`);
    // BigInt: a hostile shape may multiply past 2^53, where Number arithmetic would silently round.
    const bytes = shape.reduce((a: bigint, d: number) => a * BigInt(d), BigInt(ELEMENT_BYTES));
    if (bytes !== BigInt(end - begin))
      throw bad(`has shape ${JSON.stringify(shape)} (${bytes} bytes of ${dtype}) but data_offsets [${begin}, ${end}] span ${end - begin} bytes`);
    entries.push({ name, dtype, shape, begin, end });
  }

  // The tensors must tile the data section exactly: no overlap (two tensors aliasing bytes), no
  // gaps or trailing bytes (hidden data the format forbids).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const entry of entries) {
    if (entry.begin < covered)
      throw fail(
        `tensor ${JSON.stringify(entry.name)} [${entry.begin}, ${entry.end}] overlaps tensor ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end}]`,
      );
    if (entry.begin > covered) throw fail(`bytes ${covered} to ${entry.begin} of the data section belong to no tensor`);
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength) throw fail(`the tensors cover ${covered} bytes but the data section has ${dataLength} (truncated or padded file?)`);
  return { entries, metadata };
}

function checkedMetadata(value: unknown, fail: Fail): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('__metadata__ is not an object');
  const metadata: Record<string, string> = Object.create(null);
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== 'string') throw fail(`__metadata__.${key} is not a string`);
    metadata[key] = text;
  }
  return metadata;
}

async function readExactly(file: FileHandle, length: number, position: number, path: string): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  await readInto(file, buffer, position, path);
  return buffer;
}

async function readInto(file: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await file.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new ModelFileError(path, `${path}: the file ended early (changed while being read?)`);
    done += bytesRead;
  }
}

// Tensors are copied as raw bytes (bit for bit, NaN payloads included), which matches the
// format's little-endian data only on a little-endian host.
function requireLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error('safetensors files can only be read and written on little-endian hosts');
}

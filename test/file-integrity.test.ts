// Model and checkpoint files that cannot be silently wrong: a checksum of the tensor data verified
// on load, non-finite parameters refused by name and index, and writes that leave either the old
// or the new file when the writer is killed at any moment (and clean up after killed writers).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killTrials } from '../fuzz/kill-writes.js';
import { load, save } from '../src/api/model-file.js';
import { ModelFileError } from '../src/errors.js';
import { modelContents } from '../src/io/fcnn-format.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { createModel } from '../src/nn/model.js';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'fcnn-integrity-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const model = () => createModel({ layers: [6, 5, 3], norm: 'batch' }, { seed: 1 });

/** The header and where the data section starts. */
function parse(bytes: Buffer): { header: Record<string, { data_offsets: [number, number] }> & { __metadata__: Record<string, string> }; dataStart: number } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')), dataStart: 8 + n };
}

describe('the checksum of a model file', () => {
  it('is the SHA-256 of the data section, in the metadata', async () => {
    const path = join(dir, 'sum.safetensors');
    await save(model(), path);
    const bytes = await readFile(path);
    const { header, dataStart } = parse(bytes);
    expect(header.__metadata__.data_sha256).toBe(createHash('sha256').update(bytes.subarray(dataStart)).digest('hex'));
  });

  it('refuses a file with any flipped bit in its tensor data', async () => {
    const path = join(dir, 'flip.safetensors');
    await save(model(), path);
    const original = await readFile(path);
    const { header, dataStart } = parse(original);
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      for (const bit of [0, 22, 31]) {
        const bytes = Buffer.from(original);
        const at = dataStart + (entry as { data_offsets: [number, number] }).data_offsets[0] + Math.floor(bit / 8);
        bytes[at] ^= 1 << (bit % 8);
        await writeFile(path, bytes);
        const refusal = load(path);
        await expect(refusal, `${name} bit ${bit}`).rejects.toThrow(
          /flip\.safetensors: the tensor data does not match its checksum \(__metadata__\.data_sha256 [0-9a-f]{64}, computed [0-9a-f]{64}\): the file is corrupt/,
        );
        await expect(refusal).rejects.toMatchObject({ constructor: ModelFileError, code: 'FCNN_MODEL_FILE', file: path });
      }
    }
  });

  it('is optional: a file written without one still loads', async () => {
    const m = model();
    const path = join(dir, 'old.safetensors');
    await writeSafetensors(path, modelContents(path, m, 'fcnn/1'));
    expect(parse(await readFile(path)).header.__metadata__.data_sha256).toBeUndefined();
    expect(Array.from((await load(path)).params)).toEqual(Array.from(m.params));
  });
});

describe('non-finite values', () => {
  for (const [what, value, slab, index] of [
    ['NaN weight', NaN, 'params', 7],
    ['infinite bias', Infinity, 'params', 31],
    ['-Infinity running variance', -Infinity, 'buffers', 8],
  ] as const) {
    it(`refuses a file with a ${what}, naming the tensor and the index`, async () => {
      const m = model();
      m[slab][index] = value;
      const tensor = [...m.layout.params, ...m.layout.buffers].find(
        (t) => (slab === 'params') === m.layout.params.includes(t) && t.offset <= index && index < t.offset + t.size,
      )!;
      // Saved with a valid checksum, as a training that diverged would have left it.
      const path = join(dir, `nonfinite-${index}.safetensors`);
      await save(m, path);
      await expect(load(path)).rejects.toThrow(`tensor "${tensor.name}" has the non-finite value ${value} at index ${index - tensor.offset}`);
    });
  }
});

describe('atomic writes under SIGKILL', () => {
  it('leave the old or the new file in 20 trials, and the next write removes what a killed writer left', async () => {
    const o = await killTrials(20, 7);
    expect(o.failures).toEqual([]);
    expect(o.corrupt).toBe(0);
    expect(o.absent + o.versionA + o.versionB).toBe(20);
    expect(o.versionA + o.versionB).toBeGreaterThan(0); // the kills did not all come before the first write
    expect(o.temporaryAfterNextWrite).toBe(0);
  }, 120_000);

  it('keep the temporary file of a writer that is still running', async () => {
    const path = join(dir, 'live.safetensors');
    const exited = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => exited.on('exit', () => resolve(exited.pid!)));
    const stale = `.live.safetensors.${deadPid}.0123456789ab.tmp`;
    const live = `.live.safetensors.${process.pid}.ba9876543210.tmp`;
    const unrelated = '.live.safetensors.notes.tmp';
    for (const name of [stale, live, unrelated]) await writeFile(join(dir, name), 'partial');
    await save(model(), path);
    const names = await readdir(dir);
    expect(names).not.toContain(stale);
    expect(names).toContain(live);
    expect(names).toContain(unrelated);
  });
});

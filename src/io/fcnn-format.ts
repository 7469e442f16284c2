// A trained model as one safetensors file: every tensor under its layout name (layers.0.weight …),
// and in __metadata__ the format tag, the spec and the training record, each as JSON text.
// Loading trusts nothing in the file: the checksum of the tensor data is verified (integrity.ts),
// the spec is re-validated, the tensors must be exactly those of its layout and finite, so a model
// never comes back half loaded, mis-shaped or NaN. A training checkpoint (train/checkpoint.ts) is
// the same file with more tensors and another format tag.
import { InvalidOptionError, ModelFileError } from '../errors.js';
import { layoutOf, view, type Layout, type TensorInfo } from '../nn/layout.js';
import { resolveSpec, type ModelSpec } from '../nn/spec.js';
import { readChecked, requireFinite, writeChecked } from './integrity.js';
import type { Safetensors, Tensor } from './safetensors.js';

export const MODEL_FORMAT = 'fcnn/1';

export interface Model {
  spec: ModelSpec;
  /** The parameter slab of layoutOf(spec). */
  params: Float32Array;
  /** The buffer slab of layoutOf(spec) (BatchNorm running statistics; empty otherwise). */
  buffers: Float32Array;
  /** The trainer's configuration and results (optimizer, lr, epochs, accuracy …), as JSON-able data. */
  training?: Record<string, unknown>;
  /** What the model knows of its data (input normalization, target scaling, names), as JSON-able data; absent in older files. */
  schema?: object;
}

export async function saveModel(path: string, model: Model): Promise<void> {
  await writeChecked(path, modelContents(path, model, MODEL_FORMAT));
}

export async function loadModel(path: string): Promise<Model> {
  return decodeModel(path, await readChecked(path), MODEL_FORMAT);
}

/** The model's tensors (under their layout names) and metadata, in a file of the given format. */
export function modelContents(path: string, model: Model, format: string): Safetensors {
  const { spec, layout } = checkedModel(model, `cannot save ${path}`);
  const tensors = new Map<string, Tensor>();
  for (const t of layout.params) tensors.set(t.name, { shape: t.shape, data: view(model.params, t) });
  for (const t of layout.buffers) tensors.set(t.name, { shape: t.shape, data: view(model.buffers, t) });
  const metadata = {
    format,
    spec: JSON.stringify(spec),
    training: JSON.stringify(model.training ?? {}),
    ...(model.schema && { schema: JSON.stringify(model.schema) }),
  };
  return { tensors, metadata };
}

/**
 * The model in a file read with readChecked: its format tag must be `format`, and the only tensors
 * besides the model's those named in `extra` (which the caller checks).
 */
export function decodeModel(path: string, file: Safetensors, format: string, extra: ReadonlySet<string> = new Set()): Model {
  const { tensors, metadata } = file;
  const fail = (problem: string, tensor?: string) =>
    new ModelFileError(path, `${path}: not an fcnn ${format === MODEL_FORMAT ? 'model' : 'file'}: ${problem}`, tensor);
  if (metadata.format !== format) throw fail(`__metadata__.format is ${JSON.stringify(metadata.format)}, expected ${JSON.stringify(format)}`);
  const specJson = parseObject(metadata.spec, 'spec', fail);
  let spec: ModelSpec;
  try {
    spec = resolveSpec(specJson as Partial<ModelSpec> & { layers: number[] });
  } catch (err) {
    throw fail(`__metadata__.spec is invalid: ${(err as Error).message}`);
  }
  const training = parseObject(metadata.training, 'training', fail);
  const schema = metadata.schema === undefined ? undefined : parseObject(metadata.schema, 'schema', fail);

  const layout = layoutOf(spec);
  const expected = [...layout.params, ...layout.buffers];
  const expectedNames = new Set(expected.map((t) => t.name));
  for (const name of tensors.keys())
    if (!expectedNames.has(name) && !extra.has(name))
      throw fail(`tensor ${JSON.stringify(name)} is not part of the architecture ${JSON.stringify(spec.layers)}`, name);
  for (const t of expected) {
    const found = tensors.get(t.name);
    if (!found) throw fail(`tensor ${JSON.stringify(t.name)} is missing`, t.name);
    if (found.shape.length !== t.shape.length || found.shape.some((d, i) => d !== t.shape[i]))
      throw fail(`tensor ${JSON.stringify(t.name)} has shape ${JSON.stringify(found.shape)}, expected ${JSON.stringify(t.shape)}`, t.name);
    if (!(found.data instanceof Float32Array)) throw fail(`tensor ${JSON.stringify(t.name)} is not F32`, t.name);
    requireFinite(t.name, found.data, (problem) => fail(problem, t.name));
  }

  const params = new Float32Array(layout.paramCount);
  const buffers = new Float32Array(layout.bufferCount);
  const copy = (slab: Float32Array, t: TensorInfo) => slab.set(tensors.get(t.name)!.data, t.offset);
  layout.params.forEach((t) => copy(params, t));
  layout.buffers.forEach((t) => copy(buffers, t));
  return { spec, params, buffers, training, ...(schema && { schema: schema as object }) };
}

/** Validates the spec of a model about to be written and that its slabs fit the spec's layout. */
export function checkedModel(model: Model, context: string): { spec: ModelSpec; layout: Layout } {
  let spec: ModelSpec;
  try {
    spec = resolveSpec(model.spec);
  } catch (err) {
    throw new InvalidOptionError('model.spec', `${context}: invalid spec: ${(err as Error).message}`, { cause: err });
  }
  const layout = layoutOf(spec);
  const check = (name: string, slab: Float32Array, length: number) => {
    if (!(slab instanceof Float32Array) || slab.length !== length)
      throw new InvalidOptionError(
        `model.${name}`,
        `${context}: ${name} must be a Float32Array of ${length} elements (the layout of the spec), got ${slab?.length}`,
      );
  };
  check('params', model.params, layout.paramCount);
  check('buffers', model.buffers, layout.bufferCount);
  return { spec, layout };
}

function parseObject(text: string | undefined, key: string, fail: (problem: string) => Error): Record<string, unknown> {
  if (text === undefined) throw fail(`__metadata__.${key} is missing`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw fail(`__metadata__.${key} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`__metadata__.${key} is not a JSON object`);
  return value as Record<string, unknown>;
}

// Exports a model as an ONNX inference graph (opset 17, IR version 8), encoded by onnx-proto.ts
// (the schema's field numbers over a protobuf writer), so any ONNX runtime can read it.
//
// Graph: input "input" float [N, inputs] (N symbolic). Per layer a Gemm (transB = 1: the weight
// is stored out × in, as in the slab); on hidden layers the norm (LayerNormalization over the last
// axis, or BatchNormalization with the running statistics) and the activation, lowered as its entry
// in nn/activations.ts says. The head gives the output, named after what it holds (nn/loss.ts):
// "probabilities" for softmax (Softmax over the last axis; rows sum to 1), "outputs" for the
// elementwise heads (independent sigmoids, or linear values). Tensors keep their layout names
// (layers.0.weight …) as initializers. With the model's schema, the graph takes raw inputs: the
// input normalization comes first, as the gather computes it (Mul by the scale, Sub the per-feature
// mean, Mul by the per-feature 1/std, in float32), and standardized regression outputs are mapped
// back (Mul by the std, Add the mean).
import * as onnx from './onnx-proto.js';
import { ACTIVATIONS, type ActivationDef, type ActivationName, type OnnxBuilder } from '../nn/activations.js';
import { view, type Layout, type TensorInfo } from '../nn/layout.js';
import { OUTPUT_HEADS } from '../nn/loss.js';
import type { ModelSpec } from '../nn/spec.js';
import type { Normalization } from '../data/normalize.js';
import { writeFileAtomic } from './atomic.js';
import { checkedModel, type Model } from './fcnn-format.js';

export const ONNX_OPSET = 17;
/** The IR version that goes with opset 17 (ONNX 1.12). */
const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = 'input';

/** The graph output's name for the spec's head. */
export function onnxOutputName(spec: ModelSpec): string {
  return OUTPUT_HEADS[spec.output].onnxOutput;
}

/** The parts of a model's schema that the graph computes; without one, the graph takes the network's inputs. */
export interface OnnxSchema {
  normalization: Normalization;
  /** Regression targets the network learned standardized (null: none). */
  targetNormalization: Normalization | null;
}

export async function exportOnnx(path: string, model: Model, schema?: OnnxSchema): Promise<void> {
  const { spec, layout } = checkedModel(model, `cannot export ${path}`);
  await writeFileAtomic(path, [onnx.encodeModel(modelProto(spec, layout, model, schema))]);
}

function modelProto(spec: ModelSpec, layout: Layout, model: Model, schema: OnnxSchema | undefined): onnx.ModelProto {
  const nodes: onnx.NodeProto[] = [];
  const initializers: onnx.TensorProto[] = [];
  // Each node is named after the one value it produces.
  const node = (opType: string, inputs: string[], output: string, attribute: onnx.AttributeProto[] = []) => {
    nodes.push({ opType, input: inputs, output: [output], name: output, attribute });
    return output;
  };
  const param = (t: TensorInfo) => initializer(initializers, t.name, t.shape, view(model.params, t));
  const buffer = (t: TensorInfo) => initializer(initializers, t.name, t.shape, view(model.buffers, t));
  const scalars = new Set<string>();
  const builder: OnnxBuilder = {
    node: (op, inputs, output, floats = {}) =>
      node(
        op,
        inputs,
        output,
        Object.entries(floats).map(([name, f]) => float(name, f)),
      ),
    scalar: (name, value) => {
      if (!scalars.has(name)) initializer(initializers, name, [], new Float32Array([value]));
      scalars.add(name);
      return name;
    },
  };
  const activation = (name: ActivationName, x: string, output: string) => {
    const def: ActivationDef = ACTIVATIONS[name];
    return def.onnx(builder, x, output, def.parameter === null ? 0 : spec[def.parameter]);
  };

  let x = ONNX_INPUT;
  const width = spec.layers[0];
  const n = schema?.normalization;
  if (n && n.scale !== 1) x = node('Mul', [x, initializer(initializers, 'input_scale', [], Float32Array.of(n.scale))], 'input.scaled');
  if (n?.mean) x = node('Sub', [x, initializer(initializers, 'input_mean', [width], n.mean)], 'input.centered');
  if (n?.invStd) x = node('Mul', [x, initializer(initializers, 'input_inv_std', [width], n.invStd)], 'input.normalized');
  const last = layout.layers.length - 1;
  layout.layers.forEach((layer, i) => {
    x = node('Gemm', [x, param(layer.weight), param(layer.bias)], `layers.${i}.dense`, [int('transB', 1)]);
    if (i === last) return; // the head follows
    if (layer.norm) {
      const { weight, bias, runningMean, runningVar } = layer.norm;
      const eps = float('epsilon', spec.normEps);
      x =
        spec.norm === 'layer'
          ? node('LayerNormalization', [x, param(weight), param(bias)], `layers.${i}.norm`, [int('axis', -1), eps])
          : node('BatchNormalization', [x, param(weight), param(bias), buffer(runningMean!), buffer(runningVar!)], `layers.${i}.norm`, [eps]);
    }
    x = activation(spec.activation, x, `layers.${i}.activation`);
  });
  const output = onnxOutputName(spec);
  const classes = layout.layers[last].outputs;
  const t = spec.task === 'regression' ? schema?.targetNormalization : null;
  const head = t ? 'head' : output;
  const headActivation = OUTPUT_HEADS[spec.output].activation;
  if (headActivation === null) node('Softmax', [x], head, [int('axis', -1)]);
  else activation(headActivation, x, head);
  if (t) {
    const std = Float32Array.from({ length: classes }, (_, j) => (t.invStd ? 1 / t.invStd[j] : 1) / t.scale);
    const mean = Float32Array.from({ length: classes }, (_, j) => (t.mean ? t.mean[j] / t.scale : 0));
    const scaled = node('Mul', [head, initializer(initializers, 'target_std', [classes], std)], 'head.scaled');
    node('Add', [scaled, initializer(initializers, 'target_mean', [classes], mean)], output);
  }

  return {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'fcnn',
    graph: {
      name: 'fcnn',
      node: nodes,
      initializer: initializers,
      input: [floatMatrix(ONNX_INPUT, spec.layers[0])],
      output: [floatMatrix(output, classes)],
    },
    // The spec rides along so that tools can tell what the graph computes without parsing it.
    metadataProps: [{ key: 'fcnn.spec', value: JSON.stringify(spec) }],
  };
}

function initializer(list: onnx.TensorProto[], name: string, dims: number[], data: Float32Array): string {
  // raw_data is little-endian by the ONNX spec, whatever the host's byte order.
  const bytes = new Uint8Array(data.byteLength);
  const le = new DataView(bytes.buffer);
  for (let k = 0; k < data.length; k++) le.setFloat32(4 * k, data[k], true);
  list.push({ name, dims, dataType: onnx.TensorDataType.FLOAT, rawData: bytes });
  return name;
}

/** A float tensor [N, width] with a symbolic batch dimension. */
function floatMatrix(name: string, width: number): onnx.ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorDataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } } },
  };
}

function int(name: string, i: number): onnx.AttributeProto {
  return { name, type: onnx.AttributeType.INT, i };
}

function float(name: string, f: number): onnx.AttributeProto {
  return { name, type: onnx.AttributeType.FLOAT, f };
}

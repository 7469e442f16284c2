// The part of ONNX's schema (onnx/onnx.proto, proto2, IR version 8 / ONNX 1.12) that fcnn's graphs
// use, as plain objects and an encoder to the protobuf bytes of a .onnx file. Field numbers are the
// schema's; a field left undefined is not written (proto2's "not set"). Tested by loading the bytes
// in onnxruntime and, where Python's onnx package is installed, by onnx.checker.
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values. */
export const TensorDataType = { FLOAT: 1 } as const;
/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2 } as const;

export interface OperatorSetId {
  domain?: string;
  version?: number;
}

export interface StringStringEntry {
  key?: string;
  value?: string;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  attribute?: AttributeProto[];
}

export interface TensorProto {
  dims?: number[];
  dataType?: number;
  name?: string;
  /** Little-endian element bytes. */
  rawData?: Uint8Array;
}

/** TensorShapeProto.Dimension: a size or a symbolic name. */
export interface Dimension {
  dimValue?: number;
  dimParam?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: Dimension[] } } };
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion?: number;
  opsetImport?: OperatorSetId[];
  producerName?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntry[];
}

export function encodeModel(model: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  if (model.irVersion !== undefined) w.int(1, model.irVersion);
  if (model.producerName !== undefined) w.string(2, model.producerName);
  if (model.graph) w.message(7, (g) => graph(g, model.graph!));
  for (const o of model.opsetImport ?? [])
    w.message(8, (m) => {
      if (o.domain !== undefined) m.string(1, o.domain);
      if (o.version !== undefined) m.int(2, o.version);
    });
  for (const p of model.metadataProps ?? []) w.message(14, (m) => stringEntry(m, p));
  return w.finish();
}

function stringEntry(w: ProtoWriter, e: StringStringEntry): void {
  if (e.key !== undefined) w.string(1, e.key);
  if (e.value !== undefined) w.string(2, e.value);
}

function graph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.node ?? []) w.message(1, (m) => node(m, n));
  if (g.name !== undefined) w.string(2, g.name);
  for (const t of g.initializer ?? []) w.message(5, (m) => tensor(m, t));
  for (const v of g.input ?? []) w.message(11, (m) => valueInfo(m, v));
  for (const v of g.output ?? []) w.message(12, (m) => valueInfo(m, v));
}

function node(w: ProtoWriter, n: NodeProto): void {
  for (const s of n.input ?? []) w.string(1, s);
  for (const s of n.output ?? []) w.string(2, s);
  if (n.name !== undefined) w.string(3, n.name);
  if (n.opType !== undefined) w.string(4, n.opType);
  for (const a of n.attribute ?? []) w.message(5, (m) => attribute(m, a));
}

function attribute(w: ProtoWriter, a: AttributeProto): void {
  if (a.name !== undefined) w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.type !== undefined) w.int(20, a.type);
}

function tensor(w: ProtoWriter, t: TensorProto): void {
  for (const d of t.dims ?? []) w.int(1, d);
  if (t.dataType !== undefined) w.int(2, t.dataType);
  if (t.name !== undefined) w.string(8, t.name);
  if (t.rawData !== undefined) w.bytes(9, t.rawData);
}

function valueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  if (v.name !== undefined) w.string(1, v.name);
  const tensorType = v.type?.tensorType;
  if (!tensorType) return;
  // TypeProto.tensor_type (1) → TypeProto.Tensor { elem_type (1), shape (2) → TensorShapeProto { dim (1) } }
  w.message(2, (type) =>
    type.message(1, (t) => {
      if (tensorType.elemType !== undefined) t.int(1, tensorType.elemType);
      if (tensorType.shape)
        t.message(2, (shape) => {
          for (const d of tensorType.shape!.dim ?? [])
            shape.message(1, (dim) => {
              if (d.dimValue !== undefined) dim.int(1, d.dimValue);
              if (d.dimParam !== undefined) dim.string(2, d.dimParam);
            });
        });
    }),
  );
}

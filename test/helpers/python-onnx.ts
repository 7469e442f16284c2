// Python's onnx package (the reference implementation of the format) as an independent reader of the
// files fcnn writes: onnx.checker's full check (schema, opset, shape inference), then the model as
// JSON through protobuf's json_format (int64 as strings, bytes as base64, as that mapping defines).
import { execFileSync, spawnSync } from 'node:child_process';

/** The first of these interpreters that imports onnx, or null (then the tests that need it are skipped). */
export const pythonWithOnnx: string | null =
  ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0) ?? null;

const CHECK_AND_DUMP = `
import json, sys, onnx
from google.protobuf.json_format import MessageToDict
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print(json.dumps(MessageToDict(model)))
`;

/**
 * Runs the checker on each file (throwing its message when one fails it) and returns the decoded
 * models, in one Python process (starting one takes about a second).
 */
export function checkAndDecodeOnnx(...paths: string[]): PythonOnnxModel[] {
  if (!pythonWithOnnx) throw new Error('no python3 with the onnx package (Debian: apt-get install python3-onnx)');
  const out = execFileSync(pythonWithOnnx, ['-c', CHECK_AND_DUMP, ...paths], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as PythonOnnxModel);
}

interface Tensor {
  name: string;
  dims?: string[];
  dataType: number;
  rawData?: string;
}
interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: { dimParam?: string; dimValue?: string }[] } } };
}
export interface PythonOnnxModel {
  irVersion: string;
  opsetImport: { domain?: string; version: string }[];
  producerName: string;
  graph: {
    name: string;
    node: { opType: string; input: string[]; output: string[]; attribute?: { name: string; type: string; f?: number; i?: string }[] }[];
    initializer: Tensor[];
    input: ValueInfo[];
    output: ValueInfo[];
  };
  metadataProps: { key: string; value: string }[];
}

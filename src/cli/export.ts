// fcnn export: a saved model as an ONNX inference graph.
import type { Command } from 'commander';
import { openTrainedModel } from './model.js';
import { type Io, Output } from './output.js';

interface ExportFlags {
  model: string;
  onnx: string;
  json?: boolean;
}

export function registerExport(program: Command, io: Io): void {
  program
    .command('export')
    .description('export a saved model as ONNX (opset 17): input "input" [N, inputs] float32, raw (the normalization is in the graph)')
    .requiredOption('--model <file>', 'model file written by fcnn train --save')
    .requiredOption('--onnx <file>', 'ONNX file to write')
    .option('--json', 'one JSON object on stdout: {"event":"export",...}')
    .action(async (flags: ExportFlags) => {
      const out = new Output(flags.json === true, io);
      const { exportOnnx, onnxOutputName } = await import('../io/onnx.js');
      const { model, normalizationKind } = await openTrainedModel(flags.model);
      await exportOnnx(flags.onnx, model, model.schema);
      const output = onnxOutputName(model.spec);
      out.event('export', { model: flags.model, onnx: flags.onnx, input: 'input', output, layers: model.spec.layers, normalization: normalizationKind });
      out.line(
        `wrote ${flags.onnx}: input "input" [N, ${model.inputs}] → "${output}" [N, ${model.classes}]; ` +
          `raw inputs (its ${normalizationKind} normalization is part of the graph)`,
      );
    });
}

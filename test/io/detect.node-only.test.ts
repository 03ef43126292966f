// Format detection from content, on every fixture and on near misses.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { detectFormat } from '../../src/io/detect.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { FIXTURES, fixture } from './helpers.js';

describe('detectFormat', () => {
  it('recognises every fixture by content', () => {
    for (const f of readdirSync(FIXTURES + 'onnx').filter((n) => n.endsWith('.onnx'))) expect(detectFormat(fixture(`onnx/${f}`)), f).toBe('onnx');
    expect(detectFormat(fixture('safetensors/torch_mlp.safetensors'))).toBe('safetensors');
    for (const f of ['tfjs_seq.json', 'tfjs_functional.json', 'keras2_converter/model.json', 'keras3_converter/model.json']) {
      const bytes = fixture(`tfjs/${f}`);
      expect(detectFormat(bytes), f).toBe('tfjs');
      expect(detectFormat(new TextDecoder().decode(bytes)), f).toBe('tfjs');
      expect(detectFormat(JSON.parse(readFileSync(FIXTURES + `tfjs/${f}`, 'utf8'))), f).toBe('tfjs');
    }
  });

  it('simdnn specs, TF.js graph models, and things that are none of them', () => {
    expect(detectFormat({ format: 'simdnn', version: 1, layers: [] })).toBe('simdnn');
    expect(detectFormat('  {"layers": [{"units": 2, "weights": [1, 2]}]}')).toBe('simdnn');
    expect(detectFormat(new TextEncoder().encode('\uFEFF{"format":"simdnn","layers":[]}'))).toBe('simdnn');
    expect(detectFormat({ format: 'graph-model', modelTopology: {} })).toBe('tfjs-graph');
    expect(detectFormat(writeSafetensors({ a: { data: [1] } }))).toBe('safetensors');
    expect(detectFormat(writeSafetensors({}))).toBe('safetensors');
    for (const x of [new Uint8Array(0), Uint8Array.of(1, 2, 3), new TextEncoder().encode('<html>404</html>'), '{"a": 1}', '[1]', '{', null, 42, undefined, {}]) {
      expect(detectFormat(x), String(x)).toBe('unknown');
    }
    // A protobuf that is not a ModelProto (field 9 is not one of its fields), and a ModelProto without a graph.
    expect(detectFormat(Uint8Array.of(0x48, 0x01))).toBe('unknown');
    expect(detectFormat(Uint8Array.of(0x08, 0x07))).toBe('unknown');
    // Truncated files are not recognised (the importers then say what is wrong).
    const onnx = fixture('onnx/torch_mlp_opset13.onnx');
    expect(detectFormat(onnx.subarray(0, onnx.length - 1))).toBe('unknown');
    expect(detectFormat(onnx.buffer.slice(onnx.byteOffset, onnx.byteOffset + onnx.length))).toBe('onnx');
  });
});

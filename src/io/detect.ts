// Which model format some bytes (or text, or parsed JSON) hold, from the content alone.

import { ProtoReader, WIRE } from './protobuf.js';

/** 'tfjs-graph' is a TF.js graph model (model.json with format "graph-model"), which simdnn does
 *  not import; 'unknown' is anything else. */
export type ModelFormat = 'onnx' | 'safetensors' | 'tfjs' | 'tfjs-graph' | 'simdnn' | 'unknown';

/** ModelProto fields and their wire types (onnx.proto). */
const MODEL_FIELDS: Record<number, number> = {
  1: WIRE.varint, 2: WIRE.bytes, 3: WIRE.bytes, 4: WIRE.bytes, 5: WIRE.varint, 6: WIRE.bytes, 7: WIRE.bytes, 8: WIRE.bytes,
  14: WIRE.bytes, 20: WIRE.bytes, 25: WIRE.bytes,
};

/**
 * Recognise a model from its content: an ONNX ModelProto, a safetensors file, a TF.js layers
 * model.json, or a simdnn JSON spec. `input` may be bytes, text, or an already-parsed object.
 * Never throws.
 */
export function detectFormat(input: unknown): ModelFormat {
  if (input instanceof ArrayBuffer) input = new Uint8Array(input);
  else if (ArrayBuffer.isView(input) && !(input instanceof Uint8Array)) input = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof Uint8Array) return detectBytes(input);
  if (typeof input === 'string') return detectText(input);
  if (input !== null && typeof input === 'object') return detectJson(input as Record<string, unknown>);
  return 'unknown';
}

function detectBytes(b: Uint8Array): ModelFormat {
  if (isSafetensors(b)) return 'safetensors';
  // JSON text (UTF-8, optional BOM, leading whitespace).
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  if (b[i] === 0x7b) {
    try {
      return detectText(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(i)));
    } catch {
      return 'unknown';
    }
  }
  return isOnnx(b) ? 'onnx' : 'unknown';
}

function detectText(s: string): ModelFormat {
  const t = s.trimStart().replace(/^\uFEFF/, '');
  if (!t.startsWith('{')) return 'unknown';
  try {
    return detectJson(JSON.parse(t) as Record<string, unknown>);
  } catch {
    return 'unknown';
  }
}

function detectJson(o: Record<string, unknown>): ModelFormat {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return 'unknown';
  if (o.format === 'graph-model') return 'tfjs-graph';
  if (o.format === 'simdnn') return 'simdnn';
  if (o.format === 'layers-model' || 'modelTopology' in o || 'weightsManifest' in o) return 'tfjs';
  if (Array.isArray(o.layers) && !('class_name' in o)) return 'simdnn';
  if (typeof o.class_name === 'string' && 'config' in o) return 'tfjs';
  return 'unknown';
}

function isSafetensors(b: Uint8Array): boolean {
  if (b.length < 10) return false;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296;
  if (n < 2 || n > b.length - 8 || b[8] !== 0x7b) return false;
  let end = 8 + n - 1;
  while (end > 8 && b[end] === 0x20) end--;
  return b[end] === 0x7d;
}

/** Every top-level field is a ModelProto field of the right wire type, and there is a graph. */
function isOnnx(b: Uint8Array): boolean {
  try {
    const r = new ProtoReader(b, 'ModelProto');
    let graph = false;
    let fields = 0;
    while (!r.done()) {
      const wire = r.key();
      if (MODEL_FIELDS[r.field] !== wire) return false;
      if (r.field === 7) graph = true;
      r.skip(wire);
      if (++fields > 1_000_000) return false;
    }
    return graph;
  } catch {
    return false;
  }
}

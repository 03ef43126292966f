// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, …, "__metadata__": {string: string}}),
// then the tensors' bytes, little-endian, row-major, offsets relative to the end of the header.
// The reader checks everything against the file before allocating: the header length against the
// bytes present (a header claiming 2^40 bytes fails at once), each tensor's offsets against the data
// and against dtype × shape, and that the tensors tile the data without overlaps or gaps, as the
// reference implementation requires.

import { isBytes } from '../arrays.js';
import { SimdnnError, describe } from '../errors.js';
import { readF32 } from './protobuf.js';
import {
  bfloat16ToFloat32, halfToFloat32, invalidModel, quote, readF64, readU16, transpose, unsupportedModel,
  type ImportedLayer, type ImportedModelSpec,
} from './spec.js';

/** One tensor: its stored dtype, its shape and its values as float32. */
export interface SafeTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** The tensors of a file by name, in the order of their data, with its `__metadata__`. */
export interface SafetensorsFile extends Map<string, SafeTensor> {
  /** The header's `__metadata__` (string → string), empty when absent. */
  metadata: Record<string, string>;
  /** Tensors left out because their dtype is not a float type (with `skipUnsupported`). */
  skipped: Array<{ name: string; dtype: string; shape: number[] }>;
}

export interface ReadSafetensorsOptions {
  /** Leave out tensors of non-float dtypes (PyTorch's int64 `num_batches_tracked`, for example)
   *  instead of failing; they are listed in `skipped`. */
  skipUnsupported?: boolean;
}

/** The reference implementation's limit on the header. */
const MAX_HEADER = 100_000_000;

const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];

/** Parse a .safetensors file. Float tensors (F32, F16, BF16, F64) come back as Float32Array. */
export function readSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions = {}): SafetensorsFile {
  if (!isBytes(bytes)) {
    throw new SimdnnError('INVALID_ARGUMENT', `readSafetensors: bytes must be a Uint8Array, received ${describe(bytes)}`);
  }
  if (bytes.length < 8) throw invalidModel(`safetensors: the file has ${bytes.length} bytes; it needs at least the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 4294967296 + lo;
  if (n > bytes.length - 8) {
    throw invalidModel(`safetensors: the header claims ${n} bytes but the file has only ${bytes.length - 8} after the length field (truncated, or not a safetensors file)`);
  }
  if (n > MAX_HEADER) throw invalidModel(`safetensors: a header of ${n} bytes is larger than the format allows (${MAX_HEADER})`);
  if (n < 2 || bytes[8] !== 0x7b) throw invalidModel(`safetensors: the header must be a JSON object starting with '{' (byte 8 is ${bytes[8] ?? 'missing'})`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw invalidModel('safetensors: the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw invalidModel(`safetensors: the header is not valid JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw invalidModel('safetensors: the header must be a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const out = new Map<string, SafeTensor>() as SafetensorsFile;
  out.metadata = Object.create(null) as Record<string, string>;
  out.skipped = [];
  const extents: Array<{ name: string; begin: number; end: number }> = [];
  const entries: Array<{ name: string; dtype: string; shape: number[]; begin: number; end: number }> = [];
  for (const name of Object.keys(header)) {
    const entry = (header as Record<string, unknown>)[name];
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw invalidModel('safetensors: __metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw invalidModel(`safetensors: __metadata__[${quote(k)}] must be a string, found ${describe(v)}`);
        out.metadata[k] = v;
      }
      continue;
    }
    const where = `safetensors tensor ${quote(name)}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw invalidModel(`${where}: must be an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw invalidModel(`${where}: dtype ${typeof dtype === 'string' ? quote(dtype) : describe(dtype)} is not a safetensors dtype (${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      throw invalidModel(`${where}: shape must be an array of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || (o as number) < 0)) {
      throw invalidModel(`${where}: data_offsets must be [begin, end] with non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) {
      throw invalidModel(`${where}: data_offsets [${begin}, ${end}] lie outside the ${dataLen} data bytes`);
    }
    let count = (shape as number[]).includes(0) ? 0 : 1;
    for (const d of shape as number[]) {
      if (count === 0 || count > dataLen) break; // already too large for the data: no overflow
      count *= d;
    }
    const need = count * DTYPE_BYTES[dtype]!;
    if (need !== end - begin) {
      throw invalidModel(`${where}: ${dtype} of shape [${shape.join(', ')}] needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    extents.push({ name, begin, end });
    entries.push({ name, dtype, shape: shape.slice() as number[], begin, end });
  }
  // The tensors must tile the data exactly: no overlaps, no gaps, nothing after the last one.
  extents.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of extents) {
    if (e.begin < at) throw invalidModel(`safetensors: tensor ${quote(e.name)} [${e.begin}, ${e.end}] overlaps the tensor before it (which ends at ${at})`);
    if (e.begin > at) throw invalidModel(`safetensors: bytes [${at}, ${e.begin}) before tensor ${quote(e.name)} belong to no tensor`);
    at = e.end;
  }
  if (at !== dataLen) throw invalidModel(`safetensors: ${dataLen - at} bytes after the last tensor belong to no tensor (the file is ${bytes.length} bytes, the tensors end at ${dataStart + at})`);
  // File order is data order (JSON objects put integer-like keys such as "0" first).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (const e of entries) {
    if (!FLOAT_DTYPES.includes(e.dtype)) {
      if (options.skipUnsupported) {
        out.skipped.push({ name: e.name, dtype: e.dtype, shape: e.shape });
        continue;
      }
      throw unsupportedModel(`safetensors tensor ${quote(e.name)} is ${e.dtype}; simdnn reads F32, F16, BF16 and F64 tensors (pass { skipUnsupported: true } to leave the others out)`);
    }
    const count = (e.end - e.begin) / DTYPE_BYTES[e.dtype]!;
    const start = dataStart + e.begin;
    let data: Float32Array;
    switch (e.dtype) {
      case 'F32': data = readF32(bytes, start, count); break;
      case 'F16': data = halfToFloat32(readU16(bytes, start, count)); break;
      case 'BF16': data = bfloat16ToFloat32(readU16(bytes, start, count)); break;
      default: data = Float32Array.from(readF64(bytes, start, count)); break;
    }
    out.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return out;
}

/** A tensor to write: float32 values (any array of numbers) and, optionally, its shape. */
export interface TensorToWrite {
  data: Float32Array | ArrayLike<number>;
  /** Default: [data.length]. */
  shape?: readonly number[];
}

/**
 * Serialize tensors as a .safetensors file (F32, little-endian): header JSON padded with spaces to
 * a multiple of 8 bytes, tensors in the order given, contiguous.
 */
export function writeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : tensors && typeof tensors === 'object' ? Object.entries(tensors) : undefined;
  if (!list) throw new SimdnnError('INVALID_ARGUMENT', `writeSafetensors: tensors must be a Map or an object, received ${describe(tensors)}`);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object') throw new SimdnnError('INVALID_ARGUMENT', `writeSafetensors: metadata must be an object of strings, received ${describe(metadata)}`);
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SimdnnError('INVALID_ARGUMENT', `writeSafetensors: metadata[${quote(k)}] must be a string, received ${describe(v)}`);
      meta[k] = v;
    }
    Object.defineProperty(header, '__metadata__', { value: meta, enumerable: true, configurable: true, writable: true });
  }
  const blobs: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of list) {
    if (typeof name !== 'string' || name === '' || name === '__metadata__') {
      throw new SimdnnError('INVALID_ARGUMENT', `writeSafetensors: ${quote(name)} is not a usable tensor name`);
    }
    if (t === null || typeof t !== 'object' || !('data' in t)) throw new SimdnnError('INVALID_ARGUMENT', `writeSafetensors: tensor ${quote(name)} must be { data, shape? }, received ${describe(t)}`);
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
    const shape = t.shape === undefined ? [data.length] : Array.from(t.shape);
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0) || shape.reduce((a, b) => a * b, 1) !== data.length) {
      throw new SimdnnError('SHAPE_MISMATCH', `writeSafetensors: tensor ${quote(name)} has ${data.length} values but shape [${shape.join(', ')}]`);
    }
    Object.defineProperty(header, name, {
      value: { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * data.length] }, enumerable: true, configurable: true, writable: true,
    });
    blobs.push(data);
    offset += 4 * data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  const out = new Uint8Array(8 + json.length + pad + offset);
  const dv = new DataView(out.buffer);
  const n = json.length + pad;
  dv.setUint32(0, n % 4294967296, true);
  dv.setUint32(4, Math.floor(n / 4294967296), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let p = 8 + n;
  const little = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  for (const b of blobs) {
    if (little) out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), p);
    else for (let i = 0; i < b.length; i++) dv.setFloat32(p + 4 * i, b[i]!, true);
    p += b.byteLength;
  }
  return out;
}

type TensorSource = Map<string, { shape: readonly number[]; data: Float32Array | ArrayLike<number> }>
  | Record<string, { shape: readonly number[]; data: Float32Array | ArrayLike<number> }>;

/**
 * Resolve a spec whose weights, biases, prelu slopes and batch-norm vectors are names of tensors
 * (for example a PyTorch state_dict read with readSafetensors) into a spec with Float32Arrays,
 * checking every shape. `units` and the first layer's `inputs` may be left out: they are taken
 * from the weights. Weights given with `weightsLayout: 'in-out'` are transposed to [units][inputs].
 */
export function specTensors(spec: unknown, tensors: TensorSource): ImportedModelSpec {
  const bad = (where: string, msg: string) => new SimdnnError('INVALID_SPEC', `${where}: ${msg}`);
  if (spec === null || typeof spec !== 'object' || !Array.isArray((spec as { layers?: unknown }).layers)) {
    throw bad('specTensors', `spec must be an object with a 'layers' array, received ${describe(spec)}`);
  }
  const lookup = (name: string, where: string) => {
    const t = tensors instanceof Map ? tensors.get(name) : Object.prototype.hasOwnProperty.call(tensors, name) ? tensors[name] : undefined;
    if (!t) {
      const names = tensors instanceof Map ? [...tensors.keys()] : Object.keys(tensors);
      throw invalidModel(`${where} names tensor ${quote(name)}, which is not in the file (it has ${names.slice(0, 12).map(quote).join(', ')}${names.length > 12 ? ', …' : ''})`);
    }
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    return { shape: Array.from(t.shape), data };
  };
  /** A vector field: a tensor name (shape [n] or [1, n]) or numbers, `n` values. */
  const vector = (value: unknown, n: number | undefined, where: string): Float32Array => {
    let data: Float32Array;
    if (typeof value === 'string') {
      const t = lookup(value, where);
      if (t.shape.length > 2 || t.shape.slice(0, -1).some((d) => d !== 1)) throw invalidModel(`${where}: tensor ${quote(value)} has shape [${t.shape.join(', ')}], expected a vector`);
      data = t.data;
    } else if (value instanceof Float32Array) data = value;
    else if (Array.isArray(value) || ArrayBuffer.isView(value)) data = Float32Array.from(value as ArrayLike<number>);
    else throw bad(where, `must be a tensor name or numbers, received ${describe(value)}`);
    if (n !== undefined && data.length !== n) throw invalidModel(`${where} has ${data.length} values, expected ${n}`);
    return data;
  };
  const s = spec as { inputs?: unknown; layers: unknown[] };
  let width = typeof s.inputs === 'number' ? s.inputs : undefined;
  let inputs = width;
  const layers: ImportedLayer[] = s.layers.map((raw, i): ImportedLayer => {
    const where = `layers[${i}]`;
    if (raw === null || typeof raw !== 'object') throw bad(where, `must be an object, received ${describe(raw)}`);
    const l = raw as Record<string, unknown>;
    const type = l.type ?? 'dense';
    if (type === 'activation') {
      const act = l.activation;
      if (act !== null && typeof act === 'object' && typeof (act as { slope?: unknown }).slope === 'string') {
        const slope = vector((act as { slope: string }).slope, undefined, `${where}.activation.slope`);
        if (slope.length !== 1 && width !== undefined && slope.length !== width) throw invalidModel(`${where}.activation.slope has ${slope.length} values for ${width} features`);
        return { ...(l as object), activation: { ...(act as object), slope } } as unknown as ImportedLayer;
      }
      return { ...(l as object) } as ImportedLayer;
    }
    if (type === 'batchNorm') {
      const out = { ...(l as object) } as Record<string, unknown>;
      for (const k of ['mean', 'variance', 'scale', 'offset']) {
        if (l[k] === undefined) throw bad(where, `batchNorm needs '${k}'`);
        out[k] = vector(l[k], width, `${where}.${k}`);
        width ??= (out[k] as Float32Array).length;
        inputs ??= width;
      }
      return out as unknown as ImportedLayer;
    }
    if (type !== 'dense') throw bad(where, `unknown layer type ${describe(type)}`);
    const layout = l.weightsLayout ?? 'out-in';
    if (layout !== 'out-in' && layout !== 'in-out') throw bad(where, `weightsLayout must be 'out-in' or 'in-out'`);
    let weights: Float32Array;
    let units = typeof l.units === 'number' ? l.units : undefined;
    let layerIn = typeof l.inputs === 'number' ? l.inputs : width;
    if (typeof l.weights === 'string') {
      const t = lookup(l.weights, `${where}.weights`);
      if (t.shape.length !== 2) throw invalidModel(`${where}.weights: tensor ${quote(l.weights)} has shape [${t.shape.join(', ')}], expected a matrix`);
      const [r, c] = t.shape as [number, number];
      const [tu, ti] = layout === 'out-in' ? [r, c] : [c, r];
      if ((units !== undefined && units !== tu) || (layerIn !== undefined && layerIn !== ti)) {
        throw invalidModel(`${where}.weights: tensor ${quote(l.weights)} has shape [${r}, ${c}] but the layer is ${units ?? '?'} units × ${layerIn ?? '?'} inputs (${layout === 'out-in' ? '[units, inputs]' : '[inputs, units]'})`);
      }
      units = tu;
      layerIn = ti;
      weights = layout === 'out-in' ? t.data : transpose(t.data, ti, tu);
    } else {
      if (units === undefined || layerIn === undefined) throw bad(where, `'units' and the input width are needed when weights are not a tensor name`);
      const w = vector(l.weights, units * layerIn, `${where}.weights`);
      weights = layout === 'out-in' ? w : transpose(w, layerIn, units);
    }
    const { weightsLayout: _, ...rest } = l;
    const out: Record<string, unknown> = { ...rest, type: 'dense', inputs: layerIn, units, weights };
    if (l.bias !== undefined) out.bias = vector(l.bias, units, `${where}.bias`);
    const act = l.activation;
    if (act !== null && typeof act === 'object' && typeof (act as { slope?: unknown }).slope === 'string') {
      out.activation = { ...(act as object), slope: vector((act as { slope: string }).slope, undefined, `${where}.activation.slope`) };
    }
    inputs ??= layerIn;
    width = units;
    return out as unknown as ImportedLayer;
  });
  if (inputs === undefined) throw bad('specTensors', 'cannot tell the input width: give the first layer a weights tensor or set inputs');
  return { ...(spec as object), format: 'simdnn', version: 1, inputs, layers } as ImportedModelSpec;
}

// ONNX ModelProto decoding (field numbers from onnx/onnx.proto), on the checked protobuf reader.
// Only what an importer of dense networks needs is kept; everything else is skipped unread.
// Subgraph attributes (If/Loop bodies) and nested types (sequence, map) are noted, not decoded,
// so the nesting of the decoders is bounded by the schema itself.

import { ProtoReader, WIRE, readF32 } from './protobuf.js';
import {
  bfloat16ToFloat32, halfToFloat32, invalidModel, quote, readF64, readU16, unsupportedModel,
} from './spec.js';

/** TensorProto.DataType values used here. */
export const DT = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8,
  BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

const DT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k.toLowerCase()]));
export function dtypeName(t: number): string {
  return DT_NAMES[t] ?? `type ${t}`;
}

/** Bytes per element in raw_data. */
const ELEM_BYTES: Record<number, number> = {
  [DT.FLOAT]: 4, [DT.UINT8]: 1, [DT.INT8]: 1, [DT.UINT16]: 2, [DT.INT16]: 2, [DT.INT32]: 4, [DT.INT64]: 8,
  [DT.BOOL]: 1, [DT.FLOAT16]: 2, [DT.DOUBLE]: 8, [DT.UINT32]: 4, [DT.UINT64]: 8, [DT.BFLOAT16]: 2,
};

export const isFloatType = (t: number) => t === DT.FLOAT || t === DT.DOUBLE || t === DT.FLOAT16 || t === DT.BFLOAT16;

/** A tensor as stored: its fields, not yet converted. */
export interface RawTensor {
  name: string;
  dataType: number;
  dims: number[];
  raw?: Uint8Array;
  floatData?: Float32Array[];
  doubleData?: Float64Array[];
  int32Data?: number[];
  int64Data?: number[];
  uint64Data?: number[];
  stringData?: Uint8Array[];
  external?: Map<string, string>;
  segment?: boolean;
  /** Where it was read (for error messages). */
  where: string;
}

/** A decoded tensor: float types as Float32Array (float64 as Float64Array), integers and bools as
 *  Float64Array (int64 saturated to ±2^53), strings as string[]. */
export interface Tensor {
  dtype: number;
  dims: number[];
  data: Float32Array | Float64Array;
  strings?: string[];
}

export interface Attribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: RawTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  /** A subgraph or other value this importer does not decode. */
  other?: string;
  /** Inside a local function: the name of the caller's attribute this one takes its value from. */
  ref?: string;
}

export interface Node {
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Attribute>;
  /** Overload of the local function a call node calls (FunctionProto.overload). */
  overload?: string;
  /** Set on nodes inlined from local functions: the functions they came from, outermost first. */
  fn?: string[];
}

/** A local function (ModelProto.functions, IR version 8+): a graph of nodes the model's nodes call by
 *  domain and name. */
export interface FunctionDef {
  domain: string;
  name: string;
  overload: string;
  inputs: string[];
  outputs: string[];
  /** Attribute parameters with their defaults (attribute_proto), and those without (attribute). */
  attrs: Map<string, Attribute | undefined>;
  nodes: Node[];
}

/** A graph input/output: the tensor's element type and dims (number, a symbolic name, or undefined). */
export interface ValueInfo {
  name: string;
  /** 'tensor' with elemType/dims, or the kind of a non-tensor value (sequence, map, …). */
  kind: string;
  elemType?: number;
  dims?: Array<number | string | undefined>;
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: RawTensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
  sparseInitializers: number;
}

export interface Model {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** domain ('' for the default ai.onnx) → version */
  opsets: Map<string, number>;
  graph: Graph;
  functions: FunctionDef[];
}

const ATTR_NAMES = ['', 'float', 'int', 'string', 'tensor', 'graph', 'floats', 'ints', 'strings', 'tensors', 'graphs',
  'sparse tensor', 'sparse tensors', 'type proto', 'type protos'];

/** Decode a serialized ModelProto. */
export function decodeModel(bytes: Uint8Array): Model {
  const r = new ProtoReader(bytes, 'ModelProto');
  const model: Model = { irVersion: 0, producerName: '', producerVersion: '', opsets: new Map(), graph: undefined as unknown as Graph, functions: [] };
  let graphs = 0;
  while (!r.done()) {
    const wire = r.key();
    switch (r.field) {
      case 1: r.expect(wire, WIRE.varint, 'ir_version'); model.irVersion = r.int(); break;
      case 2: r.expect(wire, WIRE.bytes, 'producer_name'); model.producerName = r.string(); break;
      case 3: r.expect(wire, WIRE.bytes, 'producer_version'); model.producerVersion = r.string(); break;
      case 7:
        r.expect(wire, WIRE.bytes, 'graph');
        model.graph = decodeGraph(r.message('graph'));
        graphs++;
        break;
      case 8: {
        r.expect(wire, WIRE.bytes, 'opset_import');
        const m = r.message(`opset_import[${model.opsets.size}]`);
        let domain = '';
        let version = 0;
        while (!m.done()) {
          const w = m.key();
          if (m.field === 1 && w === WIRE.bytes) domain = m.string();
          else if (m.field === 2 && w === WIRE.varint) version = m.int();
          else m.skip(w);
        }
        if (domain === 'ai.onnx') domain = '';
        model.opsets.set(domain, version);
        break;
      }
      case 25: r.expect(wire, WIRE.bytes, 'functions'); model.functions.push(decodeFunction(r.message(`functions[${model.functions.length}]`))); break;
      default: r.skip(wire);
    }
  }
  if (graphs === 0) throw invalidModel('ONNX ModelProto has no graph (field 7): the bytes are not an ONNX model, or are truncated');
  return model;
}

function decodeGraph(r: ProtoReader): Graph {
  const g: Graph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [], sparseInitializers: 0 };
  while (!r.done()) {
    const wire = r.key();
    switch (r.field) {
      case 1: r.expect(wire, WIRE.bytes, 'node'); g.nodes.push(decodeNode(r.message(`node[${g.nodes.length}]`), g.nodes.length)); break;
      case 2: r.expect(wire, WIRE.bytes, 'name'); g.name = r.string(); break;
      case 5: r.expect(wire, WIRE.bytes, 'initializer'); g.initializers.push(decodeTensor(r.message(`initializer[${g.initializers.length}]`))); break;
      case 11: r.expect(wire, WIRE.bytes, 'input'); g.inputs.push(decodeValueInfo(r.message(`input[${g.inputs.length}]`))); break;
      case 12: r.expect(wire, WIRE.bytes, 'output'); g.outputs.push(decodeValueInfo(r.message(`output[${g.outputs.length}]`))); break;
      case 13: r.expect(wire, WIRE.bytes, 'value_info'); g.valueInfo.push(decodeValueInfo(r.message(`value_info[${g.valueInfo.length}]`))); break;
      case 15: r.skip(wire); g.sparseInitializers++; break;
      default: r.skip(wire);
    }
  }
  return g;
}

function decodeFunction(r: ProtoReader): FunctionDef {
  const f: FunctionDef = { domain: '', name: '', overload: '', inputs: [], outputs: [], attrs: new Map(), nodes: [] };
  while (!r.done()) {
    const wire = r.key();
    switch (r.field) {
      case 1: r.expect(wire, WIRE.bytes, 'name'); f.name = r.string(); break;
      case 4: r.expect(wire, WIRE.bytes, 'input'); f.inputs.push(r.string()); break;
      case 5: r.expect(wire, WIRE.bytes, 'output'); f.outputs.push(r.string()); break;
      case 6: { r.expect(wire, WIRE.bytes, 'attribute'); const name = r.string(); if (!f.attrs.has(name)) f.attrs.set(name, undefined); break; }
      case 11: {
        r.expect(wire, WIRE.bytes, 'attribute_proto');
        const a = decodeAttribute(r.message(`attribute_proto[${f.attrs.size}]`));
        f.attrs.set(a.name, a);
        break;
      }
      case 7: r.expect(wire, WIRE.bytes, 'node'); f.nodes.push(decodeNode(r.message(`node[${f.nodes.length}]`), f.nodes.length)); break;
      case 10: r.expect(wire, WIRE.bytes, 'domain'); f.domain = r.string(); break;
      case 13: r.expect(wire, WIRE.bytes, 'overload'); f.overload = r.string(); break;
      default: r.skip(wire);
    }
  }
  if (f.domain === 'ai.onnx') f.domain = '';
  return f;
}

function decodeNode(r: ProtoReader, index: number): Node {
  const n: Node = { index, name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: new Map() };
  while (!r.done()) {
    const wire = r.key();
    switch (r.field) {
      case 1: r.expect(wire, WIRE.bytes, 'input'); n.inputs.push(r.string()); break;
      case 2: r.expect(wire, WIRE.bytes, 'output'); n.outputs.push(r.string()); break;
      case 3: r.expect(wire, WIRE.bytes, 'name'); n.name = r.string(); break;
      case 4: r.expect(wire, WIRE.bytes, 'op_type'); n.opType = r.string(); break;
      case 7: r.expect(wire, WIRE.bytes, 'domain'); n.domain = r.string(); break;
      case 8: r.expect(wire, WIRE.bytes, 'overload'); n.overload = r.string(); break;
      case 5: {
        r.expect(wire, WIRE.bytes, 'attribute');
        const a = decodeAttribute(r.message(`attribute[${n.attrs.size}]`));
        n.attrs.set(a.name, a);
        break;
      }
      default: r.skip(wire);
    }
  }
  if (n.domain === 'ai.onnx') n.domain = '';
  return n;
}

function decodeAttribute(r: ProtoReader): Attribute {
  const a: Attribute = { name: '', type: 0 };
  const floats: Float32Array[] = [];
  while (!r.done()) {
    const wire = r.key();
    switch (r.field) {
      case 1: r.expect(wire, WIRE.bytes, 'name'); a.name = r.string(); break;
      case 20: r.expect(wire, WIRE.varint, 'type'); a.type = r.int(); break;
      case 2: r.expect(wire, WIRE.fixed32, 'f'); a.f = r.float(); break;
      case 3: r.expect(wire, WIRE.varint, 'i'); a.i = r.intSaturating(); break;
      case 4: r.expect(wire, WIRE.bytes, 's'); a.s = r.bytes(); break;
      case 5: r.expect(wire, WIRE.bytes, 't'); a.t = decodeTensor(r.message('t')); break;
      case 7: r.floats(wire, floats); break;
      case 8: r.ints(wire, (a.ints ??= [])); break;
      case 9: r.expect(wire, WIRE.bytes, 'strings'); (a.strings ??= []).push(r.bytes()); break;
      case 21: r.expect(wire, WIRE.bytes, 'ref_attr_name'); a.ref = r.string(); break;
      case 6: case 10: case 11: case 14: case 15: case 22: case 23:
        r.skip(wire);
        a.other = ({ 6: 'graph', 10: 'tensors', 11: 'graphs', 14: 'type proto', 15: 'type protos', 22: 'sparse tensor', 23: 'sparse tensors' } as Record<number, string>)[r.field];
        break;
      default: r.skip(wire);
    }
  }
  if (floats.length) a.floats = floats.flatMap((f) => Array.from(f));
  if (a.type === 0) {
    // IR version 1 files have no type: infer it from the field present.
    a.type = a.f !== undefined ? 1 : a.i !== undefined ? 2 : a.s !== undefined ? 3 : a.t !== undefined ? 4
      : a.floats ? 6 : a.ints ? 7 : a.strings ? 8 : 0;
  }
  return a;
}

export function attributeTypeName(t: number): string {
  return ATTR_NAMES[t] ?? `type ${t}`;
}

function decodeTensor(r: ProtoReader): RawTensor {
  const t: RawTensor = { name: '', dataType: 0, dims: [], where: r.where };
  while (!r.done()) {
    const wire = r.key();
    switch (r.field) {
      case 1: r.ints(wire, t.dims); break;
      case 2: r.expect(wire, WIRE.varint, 'data_type'); t.dataType = r.int(); break;
      case 3: r.skip(wire); t.segment = true; break;
      case 4: r.floats(wire, (t.floatData ??= [])); break;
      case 5: r.ints(wire, (t.int32Data ??= [])); break;
      case 6: r.expect(wire, WIRE.bytes, 'string_data'); (t.stringData ??= []).push(r.bytes()); break;
      case 7: r.ints(wire, (t.int64Data ??= [])); break;
      case 8: r.expect(wire, WIRE.bytes, 'name'); t.name = r.string(); break;
      case 9: r.expect(wire, WIRE.bytes, 'raw_data'); t.raw = r.bytes(); break;
      case 10: r.doubles(wire, (t.doubleData ??= [])); break;
      case 11: r.ints(wire, (t.uint64Data ??= [])); break;
      case 13: {
        r.expect(wire, WIRE.bytes, 'external_data');
        const m = r.message('external_data');
        let key = '';
        let value = '';
        while (!m.done()) {
          const w = m.key();
          if (m.field === 1 && w === WIRE.bytes) key = m.string();
          else if (m.field === 2 && w === WIRE.bytes) value = m.string();
          else m.skip(w);
        }
        (t.external ??= new Map()).set(key, value);
        break;
      }
      case 14: {
        r.expect(wire, WIRE.varint, 'data_location');
        if (r.int() === 1) t.external ??= new Map();
        break;
      }
      default: r.skip(wire);
    }
  }
  return t;
}

function decodeValueInfo(r: ProtoReader): ValueInfo {
  const v: ValueInfo = { name: '', kind: 'unknown' };
  while (!r.done()) {
    const wire = r.key();
    if (r.field === 1 && wire === WIRE.bytes) v.name = r.string();
    else if (r.field === 2 && wire === WIRE.bytes) decodeType(r.message('type'), v);
    else r.skip(wire);
  }
  return v;
}

function decodeType(r: ProtoReader, v: ValueInfo): void {
  while (!r.done()) {
    const wire = r.key();
    if (r.field === 1 && wire === WIRE.bytes) {
      v.kind = 'tensor';
      const t = r.message('tensor_type');
      while (!t.done()) {
        const w = t.key();
        if (t.field === 1 && w === WIRE.varint) v.elemType = t.int();
        else if (t.field === 2 && w === WIRE.bytes) {
          v.dims = [];
          const s = t.message('shape');
          while (!s.done()) {
            const ws = s.key();
            if (s.field !== 1 || ws !== WIRE.bytes) { s.skip(ws); continue; }
            const d = s.message(`dim[${v.dims.length}]`);
            let dim: number | string | undefined;
            while (!d.done()) {
              const wd = d.key();
              if (d.field === 1 && wd === WIRE.varint) dim = d.int();
              else if (d.field === 2 && wd === WIRE.bytes) dim = d.string();
              else d.skip(wd);
            }
            v.dims.push(dim);
          }
        } else t.skip(w);
      }
    } else {
      const kinds: Record<number, string> = { 4: 'sequence', 5: 'map', 8: 'sparse tensor', 9: 'optional' };
      if (kinds[r.field] && wire === WIRE.bytes) v.kind = kinds[r.field]!;
      r.skip(wire);
    }
  }
}

/** Largest element count a tensor may declare (the importer holds float32 copies). */
const MAX_ELEMENTS = 2 ** 31;

/** Elements implied by `dims`, checked (no negative dims, no overflow). */
export function elementCount(dims: readonly number[], where: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw invalidModel(`${where}: dimension ${d} is not a non-negative integer`);
    n *= d;
    if (n > MAX_ELEMENTS) throw invalidModel(`${where}: dims [${dims.join(', ')}] describe more than 2^31 elements`);
  }
  return n;
}

export type ExternalData = Map<string, Uint8Array> | Record<string, Uint8Array>;

/** Convert a stored tensor to values. `externalData` supplies the bytes of external files. */
export function tensorValues(t: RawTensor, externalData?: ExternalData): Tensor {
  const where = `${t.where}${t.name ? ` (${quote(t.name)})` : ''}`;
  const n = elementCount(t.dims, where);
  const dims = t.dims.slice();
  const dtype = t.dataType;
  if (t.segment) throw unsupportedModel(`${where}: segmented tensors are not supported`);
  let raw = t.raw;
  if (t.external) {
    raw = externalBytes(t, where, externalData);
  }
  if (dtype === DT.STRING) {
    const list = t.stringData ?? [];
    if (list.length !== n) throw invalidModel(`${where}: ${list.length} strings but dims [${dims.join(', ')}] need ${n}`);
    const dec = new TextDecoder();
    return { dtype, dims, data: new Float64Array(0), strings: list.map((b) => dec.decode(b)) };
  }
  const size = ELEM_BYTES[dtype];
  if (size === undefined) {
    throw unsupportedModel(`${where}: tensor element type ${dtypeName(dtype)} is not supported (float32, float16, bfloat16, float64 and integer types are)`);
  }
  const count = (have: number, field: string) => {
    if (have !== n) throw invalidModel(`${where}: ${field} holds ${have} values but dims [${dims.join(', ')}] need ${n}`);
  };
  if (raw !== undefined) {
    if (raw.length !== n * size) {
      throw invalidModel(`${where}: raw_data has ${raw.length} bytes but dims [${dims.join(', ')}] of ${dtypeName(dtype)} need ${n * size}`);
    }
    return { dtype, dims, data: fromRaw(raw, dtype, n) };
  }
  switch (dtype) {
    case DT.FLOAT: {
      const parts = t.floatData ?? [];
      const total = parts.reduce((a, p) => a + p.length, 0);
      count(total, 'float_data');
      if (parts.length === 1) return { dtype, dims, data: parts[0]! };
      const out = new Float32Array(total);
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
      return { dtype, dims, data: out };
    }
    case DT.DOUBLE: {
      const parts = t.doubleData ?? [];
      const total = parts.reduce((a, p) => a + p.length, 0);
      count(total, 'double_data');
      const out = new Float64Array(total);
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
      return { dtype, dims, data: out };
    }
    case DT.FLOAT16: case DT.BFLOAT16: {
      const v = t.int32Data ?? [];
      count(v.length, 'int32_data');
      return { dtype, dims, data: dtype === DT.FLOAT16 ? halfToFloat32(v) : bfloat16ToFloat32(v) };
    }
    case DT.INT64: {
      const v = t.int64Data ?? [];
      count(v.length, 'int64_data');
      return { dtype, dims, data: Float64Array.from(v) };
    }
    case DT.UINT32: case DT.UINT64: {
      const v = t.uint64Data ?? [];
      count(v.length, 'uint64_data');
      return { dtype, dims, data: Float64Array.from(v) };
    }
    default: {
      const v = t.int32Data ?? [];
      count(v.length, 'int32_data');
      return { dtype, dims, data: Float64Array.from(v) };
    }
  }
}

function externalBytes(t: RawTensor, where: string, externalData?: ExternalData): Uint8Array {
  const ext = t.external!;
  const location = ext.get('location');
  if (location === undefined) throw invalidModel(`${where}: external data without a 'location'`);
  const file = externalData instanceof Map ? externalData.get(location)
    : externalData && Object.prototype.hasOwnProperty.call(externalData, location) ? externalData[location] : undefined;
  if (!(file instanceof Uint8Array)) {
    throw unsupportedModel(
      `${where}: the tensor's data is stored outside the model, in ${quote(location)}; pass that file's bytes as ` +
      `options.externalData[${quote(location)}] (a Uint8Array), or re-save the model with the data inside ` +
      `(onnx.save_model(model, path, save_as_external_data=False))`,
    );
  }
  const num = (key: string, dflt: number) => {
    const s = ext.get(key);
    if (s === undefined) return dflt;
    if (!/^\d{1,15}$/.test(s)) throw invalidModel(`${where}: external data ${key} ${quote(s)} is not a non-negative integer`);
    return Number(s);
  };
  const offset = num('offset', 0);
  const length = num('length', file.length - offset);
  if (offset > file.length || length < 0 || offset + length > file.length) {
    throw invalidModel(`${where}: external data [${offset}, ${offset + length}) lies outside ${quote(location)} (${file.length} bytes)`);
  }
  return file.subarray(offset, offset + length);
}

function fromRaw(raw: Uint8Array, dtype: number, n: number): Float32Array | Float64Array {
  switch (dtype) {
    case DT.FLOAT: return readF32(raw, 0, n);
    case DT.DOUBLE: return readF64(raw, 0, n);
    case DT.FLOAT16: return halfToFloat32(readU16(raw, 0, n));
    case DT.BFLOAT16: return bfloat16ToFloat32(readU16(raw, 0, n));
    case DT.INT64: case DT.UINT64: {
      const out = new Float64Array(n);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < n; i++) {
        const lo = dv.getUint32(8 * i, true);
        const hi = dv.getInt32(8 * i + 4, true);
        const v = dtype === DT.UINT64 ? (hi >>> 0) * 4294967296 + lo : hi * 4294967296 + lo;
        out[i] = Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, v));
      }
      return out;
    }
    default: {
      const out = new Float64Array(n);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < n; i++) {
        switch (dtype) {
          case DT.INT32: out[i] = dv.getInt32(4 * i, true); break;
          case DT.UINT32: out[i] = dv.getUint32(4 * i, true); break;
          case DT.INT16: out[i] = dv.getInt16(2 * i, true); break;
          case DT.UINT16: out[i] = dv.getUint16(2 * i, true); break;
          case DT.INT8: out[i] = dv.getInt8(i); break;
          default: out[i] = dv.getUint8(i); break; // uint8, bool
        }
      }
      return out;
    }
  }
}

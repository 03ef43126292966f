// A tiny protobuf/ONNX writer for tests: builds ModelProto bytes field by field, so tests can make
// exactly the graph (or the broken bytes) they need without Python.

export type Bytes = Uint8Array;

export function varint(v: number | bigint): Bytes {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Uint8Array.from(out);
}

export function cat(...parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const enc = new TextEncoder();
export const key = (field: number, wire: number) => varint(field * 8 + wire);
export const vfield = (field: number, v: number | bigint) => cat(key(field, 0), varint(v));
export const bfield = (field: number, payload: Bytes | string) => {
  const p = typeof payload === 'string' ? enc.encode(payload) : payload;
  return cat(key(field, 2), varint(p.length), p);
};
export const f32field = (field: number, v: number) => cat(key(field, 5), new Uint8Array(Float32Array.of(v).buffer));

export const FLOAT = 1, INT64 = 7, FLOAT16 = 10, DOUBLE = 11;

export interface TensorArgs {
  name?: string;
  dims: number[];
  dataType?: number;
  /** float32 values (raw_data unless `typed`). */
  values?: ArrayLike<number>;
  raw?: Bytes;
  int64?: number[];
  typed?: boolean;
}

export function tensor(t: TensorArgs): Bytes {
  const parts: Bytes[] = [];
  for (const d of t.dims) parts.push(vfield(1, d));
  const dt = t.dataType ?? (t.int64 ? INT64 : FLOAT);
  parts.push(vfield(2, dt));
  if (t.name !== undefined) parts.push(bfield(8, t.name));
  if (t.raw) parts.push(bfield(9, t.raw));
  else if (t.int64) parts.push(bfield(7, cat(...t.int64.map(varint))));
  else if (t.values) {
    const bytes = new Uint8Array(Float32Array.from(t.values).buffer);
    parts.push(t.typed ? bfield(4, bytes) : bfield(9, bytes));
  }
  return cat(...parts);
}

export type AttrValue = number | string | number[] | { tensor: TensorArgs } | { int: number } | { floats: number[] }
  /** Inside a local function: takes the value of the caller's attribute `ref` (ref_attr_name), of ONNX type `type`. */
  | { ref: string; type: number };

export function attribute(name: string, v: AttrValue): Bytes {
  const parts: Bytes[] = [bfield(1, name)];
  if (typeof v === 'number') {
    if (Number.isInteger(v) && !Object.is(v, -0)) parts.push(vfield(20, 2), vfield(3, v));
    else parts.push(vfield(20, 1), f32field(2, v));
  } else if (typeof v === 'string') parts.push(vfield(20, 3), bfield(4, v));
  else if (Array.isArray(v)) parts.push(vfield(20, 7), bfield(8, cat(...v.map(varint))));
  else if ('tensor' in v) parts.push(vfield(20, 4), bfield(5, tensor(v.tensor)));
  else if ('int' in v) parts.push(vfield(20, 2), vfield(3, v.int));
  else if ('ref' in v) parts.push(vfield(20, v.type), bfield(21, v.ref));
  else parts.push(vfield(20, 6), bfield(7, new Uint8Array(Float32Array.from(v.floats).buffer)));
  return cat(...parts);
}

export interface NodeArgs {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

export function node(n: NodeArgs): Bytes {
  const parts: Bytes[] = [];
  for (const i of n.inputs) parts.push(bfield(1, i));
  for (const o of n.outputs) parts.push(bfield(2, o));
  parts.push(bfield(3, n.name ?? `${n.op}_${n.outputs[0]}`), bfield(4, n.op));
  if (n.domain) parts.push(bfield(7, n.domain));
  for (const [k, v] of Object.entries(n.attrs ?? {})) parts.push(bfield(5, attribute(k, v)));
  return cat(...parts);
}

export function valueInfo(name: string, dims?: Array<number | string | null>, elemType = FLOAT): Bytes {
  const parts: Bytes[] = [vfield(1, elemType)];
  if (dims) {
    const ds = dims.map((d) => bfield(1, d === null ? new Uint8Array(0) : typeof d === 'number' ? vfield(1, d) : bfield(2, d)));
    parts.push(bfield(2, cat(...ds)));
  }
  return cat(bfield(1, name), bfield(2, bfield(1, cat(...parts))));
}

export interface GraphArgs {
  nodes: NodeArgs[];
  initializers?: TensorArgs[];
  inputs?: Bytes[];
  outputs?: Bytes[];
}

export function graph(g: GraphArgs): Bytes {
  return cat(
    ...g.nodes.map((n) => bfield(1, node(n))),
    bfield(2, 'test'),
    ...(g.initializers ?? []).map((t) => bfield(5, tensor(t))),
    ...(g.inputs ?? [valueInfo('x', ['N', 4])]).map((v) => bfield(11, v)),
    ...(g.outputs ?? [valueInfo('y')]).map((v) => bfield(12, v)),
  );
}

export function model(g: GraphArgs | Bytes, opset = 13, functions: Bytes[] = []): Bytes {
  const gb = g instanceof Uint8Array ? g : graph(g);
  const domains = new Set<string>();
  for (const f of functions) domains.add(new TextDecoder().decode(f.subarray(2, 2 + f[1]!))); // the domain is written first
  return cat(vfield(1, 8), bfield(2, 'test-writer'), bfield(7, gb), bfield(8, cat(bfield(1, ''), vfield(2, opset))),
    ...[...domains].map((d) => bfield(8, cat(bfield(1, d), vfield(2, 1)))),
    ...functions.map((f) => bfield(25, f)));
}

export interface FunctionArgs {
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  nodes: NodeArgs[];
  /** Attribute parameters without a default. */
  attributes?: string[];
  /** Attribute parameters with a default (attribute_proto). */
  defaults?: Record<string, AttrValue>;
  opset?: number;
}

/** A FunctionProto (a local function of ModelProto.functions). Short domains only (< 128 bytes). */
export function functionProto(f: FunctionArgs): Bytes {
  return cat(
    bfield(10, f.domain), bfield(1, f.name),
    ...f.inputs.map((i) => bfield(4, i)), ...f.outputs.map((o) => bfield(5, o)),
    ...(f.attributes ?? []).map((a) => bfield(6, a)),
    ...Object.entries(f.defaults ?? {}).map(([k, v]) => bfield(11, attribute(k, v))),
    ...f.nodes.map((n) => bfield(7, node(n))),
    bfield(9, cat(bfield(1, ''), vfield(2, f.opset ?? 18))),
  );
}

/** W as an initializer: [units][inputs] (Gemm transB = 1). */
export function weights(name: string, units: number, inputs: number, seed = 1): TensorArgs {
  let s = seed;
  const values = Array.from({ length: units * inputs }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * 1.2;
  });
  return { name, dims: [units, inputs], values };
}

// ONNX → simdnn model spec. Decode the ModelProto, fold everything that does not depend on the
// input (Constant nodes, Identity/Transpose/Cast/Reshape of initializers, shape arithmetic such as
// x.view(x.size(0), -1)), cut the data path into single-entry single-exit regions, and map each
// region onto a layer: Gemm/MatMul (+ Add, Mul, BatchNormalization folded into it) → dense, an
// activation operator → its activation, a multi-node elementwise region (GELU, SiLU, Mish,
// HardSwish, Softsign written out) → the activation it computes (identified numerically, see
// elementwise.ts). Local functions (ModelProto.functions: PyTorch's dynamo exporter may leave
// onnxscript's functions un-inlined) are inlined first. Anything else is UNSUPPORTED_MODEL naming the
// node (and the local function it came from).

import { SimdnnError } from '../errors.js';
import type { ActivationSpec } from '../activations.js';
import {
  DT, decodeModel, dtypeName, elementCount, isFloatType, tensorValues,
  type Attribute, type ExternalData, type FunctionDef, type Graph, type Model, type Node, type RawTensor, type Tensor, type ValueInfo,
} from './onnx-proto.js';
import { PROBES, binary, erf, identify, unary } from './elementwise.js';
import {
  invalidModel, quote, transpose, unsupportedModel,
  type BatchNormLayerSpec, type ImportedDenseLayer, type ImportedLayer, type ImportedModelSpec, type WorkDense,
} from './spec.js';

export interface OnnxImportOptions {
  /** Which graph output to import (default: the probabilities/scores output: the first float
   *  tensor output, or the tensor a ZipMap turns into a list of maps). */
  output?: string;
  /** Which graph input feeds the model (default: the one input that is not an initializer). */
  input?: string;
  /** Bytes of the files that tensors stored as external data refer to, by their `location`. */
  externalData?: ExternalData;
}

/** How a classifier's label output relates to the imported probabilities. */
export interface LabelOutput {
  /** Name of the label output in the ONNX graph. */
  output: string;
  /** True when labels = classes[argmax(probabilities)] over the last axis, so a caller can compute
   *  them from the imported model's output. */
  argmax: boolean;
  /** The class labels, when `argmax` is true. */
  classes?: Array<number | string>;
}

export interface OnnxImportResult {
  spec: ImportedModelSpec;
  /** The graph input the spec reads. */
  inputName: string;
  /** The tensor the spec computes (a graph output, or the input of the ZipMap that produced it). */
  outputName: string;
  /** Every graph output: its name, what it holds, and whether it is the one imported. */
  outputs: Array<{ name: string; kind: string; imported: boolean }>;
  /** Opset of the default domain. */
  opset: number;
  /** producer_name and producer_version from the file. */
  producer: string;
  /** The label output of a classifier (scikit-learn via skl2onnx), when there is one. */
  labels?: LabelOutput;
}

/** Operators the importer maps, by role (for error messages and the README). */
export const SUPPORTED_OPS = {
  /** Dense layers, and per-feature affine operators folded into them. */
  layers: ['Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'BatchNormalization'],
  activations: [
    'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus',
    'Softsign', 'Mish', 'ThresholdedRelu', 'Clip', 'Erf', 'Exp', 'Sign', 'Softmax', 'LogSoftmax',
  ],
  /** Vanish: they do not change [batch, features] data. */
  passThrough: ['Identity', 'Dropout', 'Flatten', 'Reshape', 'Cast', 'CastLike'],
  /** Evaluated at import time when their inputs are constants (or the input's shape). */
  constantFolding: [
    'Constant', 'Identity', 'Cast', 'CastLike', 'Expand', 'Transpose', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Concat', 'Gather', 'Slice',
    'Shape', 'ConstantOfShape', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Neg', 'Sqrt', 'Reciprocal', 'Abs', 'Exp',
  ],
  /** Inside a written-out activation (evaluated elementwise to identify it). */
  elementwise: ['Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Log', 'Pow', 'Max', 'Min', 'Floor', 'Ceil'],
} as const;

const SUPPORTED_TEXT =
  `simdnn imports chains of dense layers (Gemm, MatMul + Add), BatchNormalization, activation operators ` +
  `(${SUPPORTED_OPS.activations.join(', ')}), GELU/SiLU/Mish/HardSwish/Softsign written out elementwise, ` +
  `Identity, Dropout, Flatten and Reshape of [batch, features], Cast/CastLike to float, local functions (inlined), and constant folding of ` +
  `Constant, CastLike, Expand, Transpose, Reshape, Cast, Squeeze, Unsqueeze, Concat, Gather, Slice and Shape`;

/** Operators that can appear on the data path in some supported form. */
const KNOWN_OPS = new Set<string>([
  ...SUPPORTED_OPS.layers, ...SUPPORTED_OPS.activations, ...SUPPORTED_OPS.passThrough, ...SUPPORTED_OPS.elementwise, 'Concat', 'Shape',
]);

type Dim = number | 'N' | '?';

type Value =
  | { kind: 'const'; t: Tensor }
  | { kind: 'shape'; v: Dim[]; scalar: boolean }
  | { kind: 'data'; dims: Dim[] | undefined; producer?: Node };

/** Import an ONNX model (the bytes of a .onnx file) as a simdnn model spec. */
export function onnxToSpec(bytes: Uint8Array, options: OnnxImportOptions = {}): OnnxImportResult {
  if (!(bytes instanceof Uint8Array)) {
    throw new SimdnnError('INVALID_ARGUMENT', `onnxToSpec: bytes must be a Uint8Array, received ${describeValue(bytes)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new SimdnnError('INVALID_ARGUMENT', `onnxToSpec: options must be an object, received ${describeValue(options)}`);
  }
  const model = decodeModel(bytes);
  return new Importer(model, options, bytes.length).run();
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function nodeLabel(n: Node): string {
  const from = n.fn?.length ? `, in local function ${n.fn.map(quote).join(' → ')}` : '';
  return `node ${quote(n.name || n.outputs[0] || `#${n.index}`)} (${n.domain ? `${n.domain}.` : ''}${n.opType}${from})`;
}

/** How deeply local functions may call each other. How many nodes they may expand to is bounded by
 *  the file's size (at least 16384): a few bytes of calls must not make millions of nodes. */
const MAX_CALL_DEPTH = 32;

/**
 * The graph's nodes with every call of a local function replaced by the function's nodes (recursively):
 * the function's inputs and outputs become the call's, its other values get names under the call's
 * (`call/value`), attributes that refer to the call's (ref_attr_name) take their values or the
 * function's defaults. Nodes that came from a function remember it (`fn`) for error messages.
 */
function inlineFunctions(model: Model, fileSize: number): Node[] {
  const limit = Math.max(1 << 14, fileSize);
  const nodes = model.graph.nodes;
  if (model.functions.length === 0) return nodes;
  const fns = new Map<string, FunctionDef>();
  const key = (domain: string, name: string, overload: string) => `${domain}\u0000${name}\u0000${overload}`;
  for (const f of model.functions) fns.set(key(f.domain, f.name, f.overload), f);
  const out: Node[] = [];
  const prefixes = new Set<string>();
  const expand = (n: Node, stack: string[]): void => {
    const f = fns.get(key(n.domain, n.opType, n.overload ?? ''));
    if (!f) {
      out.push(n);
      if (out.length > limit) throw unsupportedModel(`ONNX local functions expand to more than ${limit} nodes, more than this file's size allows`);
      return;
    }
    const id = `${f.domain ? `${f.domain}.` : ''}${f.name}${f.overload ? `:${f.overload}` : ''}`;
    if (stack.includes(id) || stack.length >= MAX_CALL_DEPTH) {
      throw unsupportedModel(`${nodeLabel(n)} calls the local function ${quote(id)} ${stack.includes(id) ? 'recursively' : `more than ${MAX_CALL_DEPTH} calls deep`}`);
    }
    if (n.inputs.length > f.inputs.length || n.outputs.length > f.outputs.length) {
      throw invalidModel(`${nodeLabel(n)} calls the local function ${quote(id)} with ${n.inputs.length} inputs and ${n.outputs.length} outputs; it has ${f.inputs.length} and ${f.outputs.length}`);
    }
    const base = `${n.name || n.outputs.find((o) => o !== '') || id}/`;
    let prefix = base;
    for (let k = 2; prefixes.has(prefix); k++) prefix = `${base.slice(0, -1)}#${k}/`;
    prefixes.add(prefix);
    const rename = new Map<string, string>();
    f.inputs.forEach((name, i) => rename.set(name, n.inputs[i] ?? ''));
    f.outputs.forEach((name, i) => { if (n.outputs[i]) rename.set(name, n.outputs[i]!); });
    const map = (v: string) => (v === '' ? '' : rename.get(v) ?? prefix + v);
    const inner = [...stack, id];
    for (const b of f.nodes) {
      const attrs = new Map<string, Attribute>();
      for (const [name, a] of b.attrs) {
        if (a.ref === undefined) { attrs.set(name, a); continue; }
        const v = n.attrs.get(a.ref) ?? f.attrs.get(a.ref);
        if (v) attrs.set(name, { ...v, name });
      }
      const copy: Node = {
        index: 0, name: prefix + (b.name || b.outputs[0] || b.opType), opType: b.opType, domain: b.domain,
        inputs: b.inputs.map(map), outputs: b.outputs.map(map), attrs, fn: [...(n.fn ?? []), id],
      };
      if (b.overload) copy.overload = b.overload;
      expand(copy, inner);
    }
  };
  for (const n of nodes) expand(n, n.fn ?? []);
  return out.map((n, index) => ({ ...n, index }));
}

function attrNum(n: Node, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  if (!a) return dflt;
  if (a.f !== undefined) return a.f;
  if (a.i !== undefined) return a.i;
  throw invalidModel(`${nodeLabel(n)}: attribute ${quote(name)} must be a number`);
}

function attrInts(n: Node, name: string): number[] | undefined {
  const a = n.attrs.get(name);
  if (!a) return undefined;
  if (a.ints) return a.ints;
  if (a.i !== undefined) return [a.i];
  throw invalidModel(`${nodeLabel(n)}: attribute ${quote(name)} must be a list of integers`);
}

function attrString(n: Node, name: string): string | undefined {
  const a = n.attrs.get(name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Most consecutive regions tried as one written-out activation (GELU needs 2). */
const MAX_COMPOSE = 4;

/** Nodes by file position, smallest first (a binary heap). */
class NodeHeap {
  readonly #a: Node[] = [];
  push(n: Node): void {
    const a = this.#a;
    let i = a.push(n) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.index <= n.index) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = n;
  }
  pop(): Node | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1]!.index < a[l]!.index ? l + 1 : l;
        if (a[c]!.index >= last.index) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** y = x·s + t per feature (from Add/Mul/Sub/Div by constants where no open dense layer precedes). */
interface WorkAffine {
  kind: 'affine';
  name: string;
  s: Float64Array;
  t: Float64Array;
}
type WorkLayer = WorkDense | WorkAffine | { kind: 'done'; layer: ImportedLayer };

class Importer {
  readonly #model: Model;
  readonly #g: Graph;
  readonly #opts: OnnxImportOptions;
  readonly #opset: number;
  readonly #producer = new Map<string, Node>();
  readonly #consumers = new Map<string, Node[]>();
  readonly #inits = new Map<string, RawTensor>();
  readonly #values = new Map<string, Value>();
  #inputName = '';
  /** Element type of the data path: the input's (float unless the file says double). */
  #dataType: number = DT.FLOAT;
  /** Most elements a folded constant may have: no more than the file's size implies. */
  readonly #budget: number;

  constructor(model: Model, opts: OnnxImportOptions, size: number) {
    this.#budget = Math.max(size, 1024);
    this.#model = model;
    this.#g = { ...model.graph, nodes: inlineFunctions(model, size) };
    this.#opts = opts;
    const opset = model.opsets.get('');
    if (opset === undefined) {
      throw invalidModel(`ONNX model has no opset_import for the default domain (ai.onnx); found ${[...model.opsets.keys()].map(quote).join(', ') || 'none'}`);
    }
    this.#opset = opset;
    for (const t of this.#g.initializers) this.#inits.set(t.name, t);
    for (const n of this.#g.nodes) {
      for (const o of n.outputs) {
        if (o === '') continue;
        if (this.#producer.has(o) || this.#inits.has(o)) {
          throw invalidModel(`ONNX graph: tensor ${quote(o)} is produced twice (by ${nodeLabel(n)} and another node or initializer)`);
        }
        this.#producer.set(o, n);
      }
      for (const i of new Set(n.inputs)) {
        if (i === '') continue;
        let list = this.#consumers.get(i);
        if (!list) this.#consumers.set(i, (list = []));
        list.push(n);
      }
    }
  }

  run(): OnnxImportResult {
    const g = this.#g;
    const { target, outputName } = this.#chooseOutput();
    const order = this.#ancestors(target);
    this.#inputName = this.#chooseInput(order, target);
    const input = g.inputs.find((i) => i.name === this.#inputName)!;
    if (input.kind !== 'tensor' && input.kind !== 'unknown') {
      throw unsupportedModel(`ONNX input ${quote(input.name)} is a ${input.kind}, not a tensor`);
    }
    if (input.elemType !== undefined && !isFloatType(input.elemType)) {
      throw unsupportedModel(`ONNX input ${quote(input.name)} holds ${dtypeName(input.elemType)}; simdnn models take float inputs`);
    }
    // Without a shape in the file the input is taken to be [batch, features].
    if (input.elemType === DT.DOUBLE) this.#dataType = DT.DOUBLE;
    const inDims: Dim[] = input.dims?.map((d, i) => (typeof d === 'number' && d > 0 ? (i === 0 ? 'N' : d) : i === 0 ? 'N' : '?')) ?? ['N', '?'];
    this.#values.set(this.#inputName, { kind: 'data', dims: inDims });
    for (const n of order) this.#evaluate(n);
    const tv = this.#values.get(target);
    if (!tv || tv.kind !== 'data') {
      throw unsupportedModel(`ONNX output ${quote(outputName)} does not depend on the input ${quote(this.#inputName)}`);
    }
    const regions = this.#regions(order, target);
    const spec = this.#map(regions, inDims);
    const result: OnnxImportResult = {
      spec,
      inputName: this.#inputName,
      outputName: target,
      outputs: g.outputs.map((o) => ({ name: o.name, kind: this.#outputKind(o), imported: o.name === outputName })),
      opset: this.#opset,
      producer: `${this.#model.producerName} ${this.#model.producerVersion}`.trim(),
    };
    const labels = this.#labels(target);
    if (labels) result.labels = labels;
    return result;
  }

  #outputKind(o: ValueInfo): string {
    if (o.kind !== 'tensor') return o.kind;
    return o.elemType === undefined ? 'tensor' : `${dtypeName(o.elemType)} tensor`;
  }

  /** The tensor to import, and the graph output it stands for. */
  #chooseOutput(): { target: string; outputName: string } {
    const g = this.#g;
    if (g.outputs.length === 0) throw invalidModel('ONNX graph has no outputs');
    const resolve = (name: string) => {
      // A ZipMap turns the probabilities into a list of {class: probability} maps: import its input.
      const p = this.#producer.get(name);
      if (p && p.opType === 'ZipMap' && p.inputs[0]) return p.inputs[0];
      return name;
    };
    const want = this.#opts.output;
    if (want !== undefined) {
      if (typeof want !== 'string') throw new SimdnnError('INVALID_ARGUMENT', `options.output must be a string, received ${describeValue(want)}`);
      if (g.outputs.some((o) => o.name === want) || this.#producer.has(want)) return { target: resolve(want), outputName: want };
      throw new SimdnnError('INVALID_ARGUMENT', `options.output ${quote(want)} is not an output of this model; its outputs are ${g.outputs.map((o) => quote(o.name)).join(', ')}`);
    }
    for (const o of g.outputs) {
      const p = this.#producer.get(o.name);
      if (p?.opType === 'ZipMap') return { target: resolve(o.name), outputName: o.name };
    }
    const floats = g.outputs.filter((o) => o.kind === 'tensor' && (o.elemType === undefined || isFloatType(o.elemType)));
    const pick = floats[0] ?? g.outputs[0]!;
    return { target: pick.name, outputName: pick.name };
  }

  /** Nodes `target` depends on, in a topological order. A cycle is UNSUPPORTED_MODEL. */
  #ancestors(target: string): Node[] {
    const need = new Set<Node>();
    const stack = [target];
    while (stack.length) {
      const name = stack.pop()!;
      const p = this.#producer.get(name);
      if (!p || need.has(p)) continue;
      need.add(p);
      for (const i of p.inputs) if (i !== '') stack.push(i);
    }
    // Kahn's algorithm over the needed nodes, in file order where there is a choice.
    const indeg = new Map<Node, number>();
    for (const n of need) {
      let d = 0;
      for (const i of new Set(n.inputs)) {
        const p = this.#producer.get(i);
        if (p && need.has(p)) d++;
      }
      indeg.set(n, d);
    }
    const ready = new NodeHeap();
    for (const n of need) if (indeg.get(n) === 0) ready.push(n);
    const order: Node[] = [];
    for (let n = ready.pop(); n; n = ready.pop()) {
      order.push(n);
      for (const o of n.outputs) {
        for (const c of this.#consumers.get(o) ?? []) {
          if (!need.has(c)) continue;
          const d = indeg.get(c)! - 1;
          indeg.set(c, d);
          if (d === 0) ready.push(c);
        }
      }
    }
    if (order.length !== need.size) {
      const stuck = [...need].filter((n) => indeg.get(n)! > 0).slice(0, 5).map(nodeLabel);
      throw unsupportedModel(`ONNX graph has a cycle (through ${stuck.join(', ')}); simdnn imports feed-forward chains only`);
    }
    return order;
  }

  #chooseInput(order: Node[], target: string): string {
    const g = this.#g;
    const candidates = g.inputs.filter((i) => !this.#inits.has(i.name));
    if (this.#opts.input !== undefined) {
      const want = this.#opts.input;
      if (!candidates.some((c) => c.name === want)) {
        throw new SimdnnError('INVALID_ARGUMENT', `options.input ${quote(want)} is not an input of this model; its inputs are ${candidates.map((c) => quote(c.name)).join(', ')}`);
      }
      return want;
    }
    if (candidates.length === 0) throw unsupportedModel('ONNX graph has no inputs (every graph input is an initializer)');
    if (candidates.length === 1) return candidates[0]!.name;
    const used = new Set<string>([target]);
    for (const n of order) for (const i of n.inputs) used.add(i);
    const live = candidates.filter((c) => used.has(c.name));
    if (live.length === 1) return live[0]!.name;
    throw unsupportedModel(`ONNX model has ${live.length || candidates.length} inputs (${(live.length ? live : candidates).map((c) => quote(c.name)).join(', ')}); simdnn models take one. Pick one with options.input`);
  }

  /** The value of a tensor name as a node input. */
  #value(name: string, reader: Node): Value {
    const v = this.#values.get(name);
    if (v) return v;
    const init = this.#inits.get(name);
    if (init) {
      const c: Value = { kind: 'const', t: tensorValues(init, this.#opts.externalData) };
      this.#values.set(name, c);
      return c;
    }
    if (this.#g.inputs.some((i) => i.name === name)) {
      throw unsupportedModel(`${nodeLabel(reader)} reads the graph input ${quote(name)} as well as ${quote(this.#inputName)}; simdnn models take one input`);
    }
    throw invalidModel(`${nodeLabel(reader)} reads ${quote(name)}, which no node, initializer or graph input provides`);
  }

  /** Compute a node's outputs: constants are folded, shape arithmetic is tracked, data nodes get
   *  their output dims inferred (best effort). */
  #evaluate(n: Node): void {
    const ins = n.inputs.map((name) => (name === '' ? undefined : this.#value(name, n)));
    if (n.opType === 'CastLike' && n.domain === '' && ins[0]?.kind === 'const' && ins[1]?.kind === 'data') {
      // CastLike(constant, x): a constant given x's element type (how onnxscript writes a Python
      // literal next to a tensor). It does not depend on x's values.
      const a = ins[0].t;
      if (a.strings) throw this.#unsupported(n, 'on strings');
      const data = this.#dataType === DT.DOUBLE ? Float64Array.from(a.data) : Float32Array.from(a.data);
      this.#values.set(n.outputs[0]!, { kind: 'const', t: { dtype: this.#dataType, dims: a.dims, data } });
      return;
    }
    if (ins.some((v) => v?.kind === 'data')) {
      const dims = this.#dataDims(n, ins);
      for (const o of n.outputs) if (o !== '') this.#values.set(o, { kind: 'data', dims, producer: n });
      if (n.opType === 'Shape') this.#values.set(n.outputs[0]!, shapeOf(ins[0] as Extract<Value, { kind: 'data' }>, n));
      return;
    }
    if (n.domain !== '') throw this.#unsupported(n);
    if (ins.some((v) => v?.kind === 'shape')) {
      const out = this.#shapeOp(n, ins);
      this.#values.set(n.outputs[0]!, out);
      return;
    }
    const t = foldConstant(n, ins.map((v) => (v as { t: Tensor } | undefined)?.t), this.#opset, this.#budget);
    if (!t) throw this.#unsupported(n, 'on constants');
    this.#values.set(n.outputs[0]!, { kind: 'const', t });
  }

  #unsupported(n: Node, context = ''): SimdnnError {
    return unsupportedModel(`${nodeLabel(n)}${context ? ` ${context}` : ''} is not supported. ${SUPPORTED_TEXT}`);
  }

  /** Shape arithmetic on Shape() results (x.view(x.size(0), -1) and similar). */
  #shapeOp(n: Node, ins: Array<Value | undefined>): Value {
    const asDims = (v: Value | undefined): { v: Dim[]; scalar: boolean } | undefined => {
      if (!v) return undefined;
      if (v.kind === 'shape') return v;
      if (v.kind === 'const' && !isFloatType(v.t.dtype) && v.t.data.length <= 64) {
        return { v: Array.from(v.t.data), scalar: v.t.dims.length === 0 };
      }
      return undefined;
    };
    const a = asDims(ins[0]);
    const done = (v: Dim[], scalar: boolean): Value => {
      if (v.every((d) => typeof d === 'number')) {
        return { kind: 'const', t: { dtype: DT.INT64, dims: scalar ? [] : [v.length], data: Float64Array.from(v as number[]) } };
      }
      return { kind: 'shape', v, scalar };
    };
    if (a) {
      switch (n.opType) {
        case 'Identity': case 'Cast': return done(a.v, a.scalar);
        case 'Gather': {
          const idx = asDims(ins[1]);
          if (idx && idx.v.every((d) => typeof d === 'number') && attrNum(n, 'axis', 0) === 0) {
            const picked = (idx.v as number[]).map((i) => a.v[i < 0 ? i + a.v.length : i] ?? '?');
            return done(picked, idx.scalar);
          }
          break;
        }
        case 'Unsqueeze': if (a.scalar) return done(a.v, false); break;
        case 'Squeeze': if (!a.scalar && a.v.length === 1) return done(a.v, true); break;
        case 'Concat': {
          const parts = ins.map(asDims);
          if (parts.every((p) => p && !p.scalar)) return done(parts.flatMap((p) => p!.v), false);
          break;
        }
        case 'Slice': {
          const num = (i: number, attr: string) => {
            const v = ins[i] ? asDims(ins[i])?.v : attrInts(n, attr);
            return v?.every((d) => typeof d === 'number') ? (v as number[]) : undefined;
          };
          const starts = num(1, 'starts');
          const ends = num(2, 'ends');
          const steps = num(4, 'steps');
          if (starts?.length === 1 && ends?.length === 1 && (!steps || steps[0] === 1)) {
            const len = a.v.length;
            const clamp = (i: number) => Math.max(0, Math.min(len, i < 0 ? i + len : i));
            return done(a.v.slice(clamp(starts[0]!), clamp(ends[0]!)), false);
          }
          break;
        }
        default: break;
      }
    }
    throw this.#unsupported(n, 'on a shape computed from the input');
  }

  /** Output dims of a data node, when they can be told. */
  #dataDims(n: Node, ins: Array<Value | undefined>): Dim[] | undefined {
    // The first operand computed from the input (0.5·x as Mul(0.5, x) keeps x's dims).
    const d0 = (ins.find((v) => v?.kind === 'data') as Extract<Value, { kind: 'data' }> | undefined)?.dims;
    const c = (i: number) => (ins[i]?.kind === 'const' ? (ins[i] as { t: Tensor }).t : undefined);
    switch (n.opType) {
      case 'Gemm': {
        const b = c(1);
        if (!b || b.dims.length !== 2) return undefined;
        return [d0?.[0] ?? 'N', attrNum(n, 'transB', 0) ? b.dims[0]! : b.dims[1]!];
      }
      case 'MatMul': {
        const b = c(1);
        if (!b || b.dims.length !== 2) return undefined;
        return [...(d0 ?? ['N', '?']).slice(0, -1), b.dims[1]!];
      }
      case 'Flatten': {
        if (!d0) return undefined;
        let axis = attrNum(n, 'axis', 1);
        if (axis < 0) axis += d0.length;
        const prod = (ds: Dim[]) => (ds.length === 0 ? 1 : ds.length === 1 ? ds[0]! : ds.every((d) => typeof d === 'number') ? size(ds as number[]) : '?');
        return [prod(d0.slice(0, axis)), prod(d0.slice(axis))];
      }
      case 'Reshape': {
        const shape = ins[1];
        if (!d0 || !shape) return undefined;
        const target = shape.kind === 'const' ? Array.from(shape.t.data) as Dim[] : shape.kind === 'shape' ? shape.v : undefined;
        return target ? reshapeDims(d0, target, attrNum(n, 'allowzero', 0) === 1) : undefined;
      }
      case 'Shape': return undefined;
      case 'Concat': {
        const all = ins.map((v) => (v?.kind === 'data' ? v.dims : v?.kind === 'const' ? v.t.dims : undefined));
        if (all.some((x) => !x) || !d0) return undefined;
        const last = all.map((x) => x![x!.length - 1]);
        return [...d0.slice(0, -1), last.every((x) => typeof x === 'number') ? (last as number[]).reduce((a, b) => a + b, 0) : '?'];
      }
      default:
        return d0;
    }
  }

  /**
   * Cut the data path from the input to `target` into regions with one entry and one exit: every
   * tensor where the path narrows to a single live value ends one region. A plain chain gives one
   * node per region; x·Sigmoid(x) or the GELU subgraph give one region of several nodes.
   */
  #regions(order: Node[], target: string): Array<{ entry: string; exit: string; nodes: Node[] }> {
    // Data nodes on a path from the input to the target.
    const fromInput = new Set<string>([this.#inputName]);
    const dataNodes: Node[] = [];
    for (const n of order) {
      const v = this.#values.get(n.outputs[0] ?? '');
      if (v?.kind !== 'data' || n.opType === 'Shape') continue;
      if (n.inputs.some((i) => fromInput.has(i))) {
        dataNodes.push(n);
        for (const o of n.outputs) if (o !== '') fromInput.add(o);
      }
    }
    const onPath = new Set<Node>();
    const toTarget = new Set<string>([target]);
    for (let k = dataNodes.length - 1; k >= 0; k--) {
      const n = dataNodes[k]!;
      if (n.outputs.some((o) => toTarget.has(o))) {
        onPath.add(n);
        for (const i of n.inputs) toTarget.add(i);
      }
    }
    const path = dataNodes.filter((n) => onPath.has(n));
    const produced = new Set<string>([this.#inputName]);
    for (const n of path) for (const o of n.outputs) produced.add(o);
    // Consumers along the path; every data input must come from the input.
    const uses = new Map<string, number>();
    for (const n of path) {
      for (const i of new Set(n.inputs)) {
        const v = this.#values.get(i);
        if (v?.kind !== 'data') continue;
        if (!produced.has(i)) {
          throw unsupportedModel(`${nodeLabel(n)} combines the input with ${quote(i)}, which does not come from the input; simdnn imports single-input chains`);
        }
        uses.set(i, (uses.get(i) ?? 0) + 1);
      }
    }
    uses.set(target, (uses.get(target) ?? 0) + 1); // the graph output is one more reader
    const regions: Array<{ entry: string; exit: string; nodes: Node[] }> = [];
    const live = new Map<string, number>([[this.#inputName, uses.get(this.#inputName) ?? 0]]);
    let entry = this.#inputName;
    let nodes: Node[] = [];
    for (const n of path) {
      nodes.push(n);
      for (const i of new Set(n.inputs)) {
        const left = live.get(i);
        if (left === undefined) continue;
        if (left <= 1) live.delete(i);
        else live.set(i, left - 1);
      }
      for (const o of n.outputs) {
        const u = uses.get(o);
        if (u) live.set(o, u);
      }
      if (live.size === 1) {
        const exit = [...live.keys()][0]!;
        if (n.outputs.includes(exit)) {
          regions.push({ entry, exit, nodes });
          entry = exit;
          nodes = [];
        }
      }
    }
    if (nodes.length || entry !== target) {
      throw unsupportedModel(`ONNX graph is not a chain from ${quote(this.#inputName)} to ${quote(target)}: ${nodes.slice(0, 6).map(nodeLabel).join(', ')} form branches that do not join into one known pattern`);
    }
    return regions;
  }

  #const(name: string): Tensor | undefined {
    const v = this.#values.get(name);
    return v?.kind === 'const' ? v.t : undefined;
  }

  /** Evaluate a region elementwise on `xs` (float64), or undefined when it is not elementwise with
   *  scalar constants. */
  #evalRegion(r: { entry: string; nodes: Node[] }, xs: Float64Array): Float64Array | undefined {
    const vals = new Map<string, Float64Array | number>([[r.entry, xs]]);
    const get = (name: string): Float64Array | number | undefined => {
      if (name === '') return undefined;
      const v = vals.get(name);
      if (v !== undefined) return v;
      const t = this.#const(name);
      return t && t.data.length === 1 ? t.data[0]! : undefined;
    };
    let last: Float64Array | undefined;
    for (const n of r.nodes) {
      if (n.domain !== '') return undefined;
      let f: ((x: number) => number) | undefined;
      const a = get(n.inputs[0] ?? '');
      if (!(a instanceof Float64Array)) {
        // Only binary operators may have the constant first.
        const op = binary(n.opType);
        const b = get(n.inputs[1] ?? '');
        if (!op || typeof a !== 'number' || !(b instanceof Float64Array)) return undefined;
        last = b.map((x) => op(a, x));
      } else if (n.opType === 'Clip') {
        let lo = -Infinity;
        let hi = Infinity;
        if (this.#opset < 11) {
          lo = attrNum(n, 'min', -Infinity);
          hi = attrNum(n, 'max', Infinity);
        } else {
          const l = n.inputs[1] ? get(n.inputs[1]) : -Infinity;
          const h = n.inputs[2] ? get(n.inputs[2]) : Infinity;
          if (typeof l !== 'number' || typeof h !== 'number') return undefined;
          lo = l;
          hi = h;
        }
        last = a.map((x) => Math.min(hi, Math.max(lo, x)));
      } else if (n.opType === 'Gelu') {
        last = a.map(geluSpec(n).approximate === 'tanh'
          ? (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
          : (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)));
      } else if (n.opType === 'Cast') {
        if (!isFloatType(attrNum(n, 'to', 0))) return undefined;
        last = a;
      } else if (n.opType === 'CastLike') {
        const like = this.#const(n.inputs[1] ?? '');
        if (!like || !isFloatType(like.dtype)) return undefined;
        last = a;
      } else if (n.opType === 'PRelu') {
        const s = get(n.inputs[1] ?? '');
        if (typeof s !== 'number') return undefined;
        last = a.map((x) => (x < 0 ? s * x : x));
      } else if ((f = unary(n.opType, (name, d) => attrNum(n, name, d)))) {
        if (n.opType === 'Dropout' && n.outputs.length > 1 && n.outputs[1] !== '' && this.#consumers.has(n.outputs[1]!)) return undefined;
        last = a.map(f);
      } else {
        const op = binary(n.opType);
        const b = get(n.inputs[1] ?? '');
        if (!op || b === undefined || n.inputs.length !== 2) return undefined;
        last = typeof b === 'number' ? a.map((x) => op(x, b)) : a.map((x, i) => op(x, b[i]!));
      }
      vals.set(n.outputs[0]!, last);
    }
    return last;
  }

  /** Map the regions onto layers. */
  #map(regions: Array<{ entry: string; exit: string; nodes: Node[] }>, inDims: Dim[] | undefined): ImportedModelSpec {
    if (inDims && inDims.length !== 2) {
      // An operator simdnn does not have at all is the more useful thing to report.
      for (const r of regions) for (const n of r.nodes) if (!KNOWN_OPS.has(n.opType) || n.domain !== '') throw this.#unsupported(n);
      const first = regions[0]?.nodes[0];
      if (inDims.length > 2 && first?.opType === 'Flatten') {
        throw unsupportedModel(`${nodeLabel(first)} flattens the rank-${inDims.length} input ${quote(this.#inputName)} [${inDims.join(', ')}]; simdnn models take rank-2 [batch, features] input for now: export the model with the flattening done before it`);
      }
      throw unsupportedModel(`ONNX input ${quote(this.#inputName)} has rank ${inDims.length} [${inDims.join(', ')}]; simdnn models take rank-2 [batch, features] input`);
    }
    const st: MapState = { work: [], width: typeof inDims?.[1] === 'number' ? inDims[1] : undefined, inputs: undefined };
    st.inputs = st.width;
    for (let i = 0; i < regions.length;) {
      const r = regions[i]!;
      // Longest run of elementwise regions that together compute a known activation: a region of
      // several nodes, possibly followed by scalar steps (GELU's trailing Mul by 0.5).
      const outs: Float64Array[] = [];
      if (this.#composable(r)) {
        let ys: Float64Array | undefined = PROBES;
        for (let j = i; j < regions.length && j < i + MAX_COMPOSE && ys && this.#composable(regions[j]!); j++) {
          ys = this.#evalRegion(regions[j]!, ys);
          if (ys) outs.push(ys);
        }
      }
      let matched = false;
      for (let k = outs.length - 1; k >= 0; k--) {
        if (k === 0 && r.nodes.length === 1) break; // one operator: map it with its own parameters
        const spec = identify(outs[k]!);
        if (spec !== undefined) {
          const last = regions[i + k]!;
          addActivation(st, spec, last.nodes[last.nodes.length - 1]!.name || last.exit);
          i += k + 1;
          matched = true;
          break;
        }
      }
      if (matched) continue;
      if (r.nodes.length === 1) this.#mapNode(r.nodes[0]!, r.entry, st);
      else if (!this.#binaryHead(r, st)) {
        throw unsupportedModel(
          `ONNX ${r.nodes.slice(0, 8).map(nodeLabel).join(', ')}${r.nodes.length > 8 ? ', …' : ''} branch from ${quote(r.entry)} and join at ${quote(r.exit)}, ` +
          `but do not compute an activation simdnn knows (recognised written-out forms: GELU (erf and tanh), SiLU, Mish, HardSwish, Softsign, and every single activation). ${SUPPORTED_TEXT}`,
        );
      }
      i++;
    }
    return finish(st, this.#inputName);
  }

  /** A region that may be part of a written-out activation: several nodes, or one elementwise
   *  step by a scalar constant. */
  #composable(r: { entry: string; nodes: Node[] }): boolean {
    if (r.nodes.length > 1) return true;
    const n = r.nodes[0]!;
    if (n.opType === 'Neg') return true;
    if (!['Add', 'Sub', 'Mul', 'Div'].includes(n.opType) || n.inputs.length !== 2) return false;
    const other = this.#const(n.inputs[n.inputs[0] === r.entry ? 1 : 0]!);
    return other !== undefined && other.data.length === 1;
  }

  /** scikit-learn's binary classifier head: probabilities = Concat(1 − σ(z), σ(z)) = softmax([0, z]). */
  #binaryHead(r: { entry: string; nodes: Node[] }, st: MapState): boolean {
    if (r.nodes.length !== 2) return false;
    const [sub, cat] = r.nodes as [Node, Node];
    const one = this.#const(sub.inputs[0] ?? '');
    if (sub.opType !== 'Sub' || sub.inputs[1] !== r.entry || !one || one.data.length !== 1 || one.data[0] !== 1) return false;
    if (cat.opType !== 'Concat' || cat.inputs.length !== 2) return false;
    const axis = attrNum(cat, 'axis', 0);
    if (axis !== 1 && axis !== -1) return false;
    const first = cat.inputs[0] === sub.outputs[0] && cat.inputs[1] === r.entry;
    const second = cat.inputs[1] === sub.outputs[0] && cat.inputs[0] === r.entry;
    const d = st.work[st.work.length - 1];
    if ((!first && !second) || d?.kind !== 'dense' || d.units !== 1 || d.activation !== 'sigmoid') return false;
    const w = new Float64Array(2 * d.inputs);
    const b = new Float64Array(2);
    const at = first ? 1 : 0;
    w.set(d.w, at * d.inputs);
    b[at] = d.b ? d.b[0]! : 0;
    d.w = w;
    d.b = b;
    d.units = 2;
    d.activation = 'softmax';
    st.width = 2;
    return true;
  }

  /** One operator as a layer, an activation, a fold into the previous layer, or nothing. */
  #mapNode(n: Node, entry: string, st: MapState): void {
    const c = (i: number) => (n.inputs[i] ? this.#const(n.inputs[i]!) : undefined);
    const dataAt = n.inputs.indexOf(entry);
    const op = n.domain === '' ? n.opType : '';
    const floats = (t: Tensor | undefined, what: string): Tensor => {
      if (!t) throw unsupportedModel(`${nodeLabel(n)}: ${what} must be a constant (an initializer or computed from initializers)`);
      if (!isFloatType(t.dtype)) throw unsupportedModel(`${nodeLabel(n)}: ${what} holds ${dtypeName(t.dtype)}, not floats`);
      return t;
    };
    switch (op) {
      case 'Gemm': {
        if (dataAt !== 0) throw unsupportedModel(`${nodeLabel(n)}: the input must be Gemm's first operand A (the weights B), not B`);
        if (attrNum(n, 'transA', 0) !== 0) throw unsupportedModel(`${nodeLabel(n)}: transA = 1 transposes the batch; not a dense layer`);
        const B = floats(c(1), 'B');
        if (B.dims.length !== 2) throw invalidModel(`${nodeLabel(n)}: B has dims [${B.dims.join(', ')}], expected a matrix`);
        const transB = attrNum(n, 'transB', 0) !== 0;
        const [units, inputs] = transB ? [B.dims[0]!, B.dims[1]!] : [B.dims[1]!, B.dims[0]!];
        let w: Float32Array | Float64Array = transB ? B.data : transpose(B.data, inputs, units);
        const alpha = attrNum(n, 'alpha', 1);
        if (alpha !== 1) w = Float64Array.from(w, (v) => v * alpha);
        let b: Float32Array | Float64Array | undefined;
        if (n.inputs[2]) {
          const C = floats(c(2), 'C');
          const len = C.data.length;
          if (len !== 1 && (len !== units || (C.dims.length === 2 && C.dims[0] !== 1))) {
            throw unsupportedModel(`${nodeLabel(n)}: C has dims [${C.dims.join(', ')}]; a dense layer's bias is one value per unit ([${units}] or [1, ${units}])`);
          }
          const beta = attrNum(n, 'beta', 1);
          b = len === units && beta === 1 ? C.data : Float64Array.from({ length: units }, (_, u) => beta * C.data[len === 1 ? 0 : u]!);
        }
        addDense(st, { kind: 'dense', name: n.name || n.outputs[0]!, inputs, units, w, b }, n);
        return;
      }
      case 'MatMul': {
        if (dataAt !== 0) throw unsupportedModel(`${nodeLabel(n)}: the input must be MatMul's first operand (x·W); W·x is not a dense layer`);
        const B = floats(c(1), 'the weights (second operand)');
        if (B.dims.length !== 2) throw unsupportedModel(`${nodeLabel(n)}: weights of dims [${B.dims.join(', ')}]; a dense layer needs a [inputs, units] matrix`);
        const [inputs, units] = B.dims as [number, number];
        addDense(st, { kind: 'dense', name: n.name || n.outputs[0]!, inputs, units, w: transpose(B.data, inputs, units) }, n);
        return;
      }
      case 'Add': case 'Sub': case 'Mul': case 'Div': {
        const other = c(1 - dataAt);
        if (dataAt < 0 || dataAt > 1 || !other || n.inputs.length !== 2) throw this.#unsupported(n, 'on two tensors computed from the input');
        const t = floats(other, 'the other operand');
        const vec = featureVector(t, st.width, n);
        const s = new Float64Array(vec.length);
        const sh = new Float64Array(vec.length);
        for (let k = 0; k < vec.length; k++) {
          const v = vec[k]!;
          if (op === 'Add') { s[k] = 1; sh[k] = v; }
          else if (op === 'Sub') { s[k] = dataAt === 0 ? 1 : -1; sh[k] = dataAt === 0 ? -v : v; }
          else if (op === 'Mul') { s[k] = v; sh[k] = 0; }
          else if (dataAt === 0) { s[k] = 1 / v; sh[k] = 0; }
          else throw this.#unsupported(n, '(a constant divided by the input)');
        }
        addAffine(st, s, sh, n.name || n.outputs[0]!, n);
        return;
      }
      case 'BatchNormalization': {
        if (dataAt !== 0) throw this.#unsupported(n);
        if (attrNum(n, 'training_mode', 0) !== 0) throw unsupportedModel(`${nodeLabel(n)}: training_mode = 1 normalises with batch statistics; export the model in eval() mode`);
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => floats(c(i), ['', 'scale', 'B', 'input_mean', 'input_var'][i]!));
        const eps = attrNum(n, 'epsilon', 1e-5);
        const len = scale!.data.length;
        for (const t of [bias!, mean!, variance!]) {
          if (t.data.length !== len) throw invalidModel(`${nodeLabel(n)}: scale, B, mean and var must have the same length (${len} and ${t.data.length})`);
        }
        if (st.width !== undefined && len !== st.width) throw invalidModel(`${nodeLabel(n)}: ${len} channels but the input has ${st.width} features`);
        const bn = { mean: mean!.data, variance: variance!.data, scale: scale!.data, offset: bias!.data, epsilon: eps };
        const last = st.work[st.work.length - 1];
        if (last?.kind === 'dense' && last.activation === undefined) {
          const s = new Float64Array(len);
          const t = new Float64Array(len);
          for (let k = 0; k < len; k++) {
            s[k] = bn.scale[k]! / Math.sqrt(bn.variance[k]! + Math.fround(eps));
            t[k] = bn.offset[k]! - bn.mean[k]! * s[k]!;
          }
          foldIntoDense(last, s, t);
        } else {
          st.width ??= len;
          st.inputs ??= len;
          st.work.push({
            kind: 'done',
            layer: {
              type: 'batchNorm', name: n.name || n.outputs[0]!, epsilon: eps,
              mean: f32(bn.mean), variance: f32(bn.variance), scale: f32(bn.scale), offset: f32(bn.offset),
            } satisfies BatchNormLayerSpec,
          });
        }
        return;
      }
      case 'Identity': return;
      case 'Dropout': {
        const training = c(2);
        if (n.inputs[2] && (!training || training.data[0] !== 0)) {
          throw unsupportedModel(`${nodeLabel(n)}: training_mode is not a constant false; export the model in eval() mode`);
        }
        return;
      }
      case 'Cast': case 'CastLike': {
        const like = op === 'CastLike' ? c(1) : undefined;
        if (op === 'CastLike' && (dataAt !== 0 || !like)) throw this.#unsupported(n, 'on two tensors computed from the input');
        const to = like ? like.dtype : attrNum(n, 'to', 0);
        if (to !== DT.FLOAT && to !== DT.DOUBLE) throw unsupportedModel(`${nodeLabel(n)} casts the data to ${dtypeName(to)}; simdnn computes in float32`);
        return;
      }
      case 'Flatten': {
        const dims = (this.#values.get(entry) as { dims?: Dim[] }).dims;
        let axis = attrNum(n, 'axis', 1);
        const rank = dims?.length ?? 2;
        if (axis < 0) axis += rank;
        if (rank === 2 && axis === 1) return;
        throw unsupportedModel(`${nodeLabel(n)} flattens a rank-${rank} tensor at axis ${attrNum(n, 'axis', 1)}; simdnn models are [batch, features] throughout (only a Flatten of [batch, n] at axis 1, which does nothing, is supported)`);
      }
      case 'Reshape': {
        const known = (this.#values.get(entry) as { dims?: Dim[] }).dims ?? ['N', '?'];
        // [batch, width] with the width the layers so far give (the file may not say).
        const inDims: Dim[] = known.length === 2 ? ['N', st.width ?? known[1]!] : known;
        const shape = n.inputs[1] ? this.#values.get(n.inputs[1]) : undefined;
        const target = shape?.kind === 'const' ? (Array.from(shape.t.data) as Dim[]) : shape?.kind === 'shape' ? shape.v : undefined;
        const outDims = target && reshapeDims(inDims, target, attrNum(n, 'allowzero', 0) === 1);
        if (inDims.length === 2 && outDims?.length === 2 && outDims[0] === 'N' && outDims[1] === inDims[1] && inDims[1] !== '?') return;
        const shown = shape?.kind === 'const' ? `[${Array.from(shape.t.data).join(', ')}]` : shape?.kind === 'shape' ? `[${shape.v.join(', ')}]` : 'an unknown shape';
        throw unsupportedModel(`${nodeLabel(n)} reshapes [${inDims.join(', ')}] to ${shown}; only reshapes that keep [batch, features] are supported`);
      }
      case 'Softmax': case 'LogSoftmax': {
        const dims = (this.#values.get(entry) as { dims?: Dim[] }).dims;
        const rank = dims?.length ?? 2;
        let axis = attrNum(n, 'axis', this.#opset < 13 ? 1 : -1);
        if (axis < 0) axis += rank;
        if (axis !== rank - 1) throw unsupportedModel(`${nodeLabel(n)} normalises over axis ${attrNum(n, 'axis', this.#opset < 13 ? 1 : -1)} of a rank-${rank} tensor; simdnn normalises the last axis only`);
        addActivation(st, op === 'Softmax' ? 'softmax' : 'logSoftmax', n.name || n.outputs[0]!);
        return;
      }
      case 'Clip': {
        let lo: number;
        let hi: number;
        if (this.#opset < 11) {
          lo = attrNum(n, 'min', -Infinity);
          hi = attrNum(n, 'max', Infinity);
        } else {
          const bound = (i: number, dflt: number) => {
            if (!n.inputs[i]) return dflt;
            const t = c(i);
            if (!t || t.data.length !== 1) throw unsupportedModel(`${nodeLabel(n)}: ${i === 1 ? 'min' : 'max'} must be a constant scalar`);
            return t.data[0]!;
          };
          lo = bound(1, -Infinity);
          hi = bound(2, Infinity);
        }
        const big = 3.4e38;
        if (lo <= -big) lo = -Infinity;
        if (hi >= big) hi = Infinity;
        addActivation(st, lo === 0 && hi === 6 ? 'relu6' : lo === 0 && hi === Infinity ? 'relu' : { name: 'clip', min: lo, max: hi }, n.name || n.outputs[0]!);
        return;
      }
      case 'PRelu': {
        const slope = floats(c(1), 'slope');
        const vec = featureVector(slope, st.width, n);
        if (vec.length > 1) { st.width ??= vec.length; st.inputs ??= vec.length; }
        addActivation(st, vec.length === 1 ? { name: 'leakyRelu', alpha: vec[0]! } : { name: 'prelu', slope: f32(vec) }, n.name || n.outputs[0]!);
        return;
      }
      case 'Gelu': addActivation(st, geluSpec(n), n.name || n.outputs[0]!); return;
      default: break;
    }
    const simple: Record<string, () => ActivationSpec> = {
      Relu: () => 'relu',
      LeakyRelu: () => ({ name: 'leakyRelu', alpha: attrNum(n, 'alpha', 0.01) }),
      Elu: () => ({ name: 'elu', alpha: attrNum(n, 'alpha', 1) }),
      Selu: () => ({ name: 'selu', alpha: attrNum(n, 'alpha', 1.67326319217681884765625), gamma: attrNum(n, 'gamma', 1.05070102214813232421875) }),
      Celu: () => ({ name: 'celu', alpha: attrNum(n, 'alpha', 1) }),
      Sigmoid: () => 'sigmoid',
      HardSigmoid: () => ({ name: 'hardSigmoid', alpha: attrNum(n, 'alpha', 0.2), beta: attrNum(n, 'beta', 0.5) }),
      HardSwish: () => 'hardSwish',
      Tanh: () => 'tanh',
      Softplus: () => 'softplus',
      Softsign: () => 'softsign',
      Mish: () => 'mish',
      ThresholdedRelu: () => ({ name: 'thresholdedRelu', alpha: attrNum(n, 'alpha', 1) }),
      Erf: () => 'erf',
      Exp: () => 'exp',
      Sign: () => 'sign',
    };
    const f = op ? simple[op] : undefined;
    if (f && n.inputs.length === 1) {
      addActivation(st, f(), n.name || n.outputs[0]!);
      return;
    }
    throw this.#unsupported(n);
  }

  /** The label output of an skl2onnx classifier, and whether it is argmax of the probabilities. */
  #labels(target: string): LabelOutput | undefined {
    const root = (name: string) => {
      let p = this.#producer.get(name);
      for (let k = 0; p && p.opType === 'Identity' && k < 64; k++) {
        name = p.inputs[0]!;
        p = this.#producer.get(name);
      }
      return name;
    };
    const probs = root(target);
    for (const o of this.#g.outputs) {
      const isLabel = o.kind === 'tensor' && (o.elemType === DT.INT64 || o.elemType === DT.STRING || o.elemType === DT.INT32);
      if (!isLabel) continue;
      // Walk back through Cast/Reshape/Identity to ArrayFeatureExtractor(classes, ArgMax(probabilities)).
      let p = this.#producer.get(o.name);
      for (let k = 0; p && (p.opType === 'Cast' || p.opType === 'Reshape' || p.opType === 'Identity') && k < 16; k++) p = this.#producer.get(p.inputs[0]!);
      let argmax = false;
      let classes: Array<number | string> | undefined;
      if (p && p.opType === 'ArrayFeatureExtractor') {
        const am = this.#producer.get(p.inputs[1] ?? '');
        const cls = this.#inits.get(p.inputs[0] ?? '');
        if (am && am.opType === 'ArgMax' && root(am.inputs[0]!) === probs && cls) {
          const axis = attrNum(am, 'axis', 0);
          if ((axis === 1 || axis === -1) && attrNum(am, 'select_last_index', 0) === 0) {
            try {
              const t = tensorValues(cls, this.#opts.externalData);
              classes = t.strings ?? Array.from(t.data);
              argmax = true;
            } catch {
              argmax = false;
            }
          }
        }
      }
      const out: LabelOutput = { output: o.name, argmax };
      if (classes) out.classes = classes;
      return out;
    }
    return undefined;
  }
}

interface MapState {
  work: WorkLayer[];
  width: number | undefined;
  inputs: number | undefined;
}

function f32(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

function geluSpec(n: Node): { name: 'gelu'; approximate: 'none' | 'tanh' } {
  const approx = attrString(n, 'approximate') ?? 'none';
  if (approx !== 'none' && approx !== 'tanh') throw unsupportedModel(`${nodeLabel(n)}: approximate ${quote(approx)} is not 'none' or 'tanh'`);
  return { name: 'gelu', approximate: approx };
}

/** A constant that broadcasts along the feature axis of [batch, features]: one value or one per feature. */
function featureVector(t: Tensor, width: number | undefined, n: Node): Float32Array | Float64Array {
  const len = t.data.length;
  const dims = t.dims;
  const lastOnly = dims.slice(0, -1).every((d) => d === 1);
  if (len === 1 || (lastOnly && dims.length <= 2 && (width === undefined || len === width))) return t.data;
  throw unsupportedModel(`${nodeLabel(n)}: a constant of dims [${dims.join(', ')}] does not broadcast as one value per feature${width !== undefined ? ` (${width} features)` : ''}`);
}

function addDense(st: MapState, d: WorkDense, n: Node): void {
  if (st.width !== undefined && st.width !== d.inputs) {
    throw invalidModel(`${nodeLabel(n)}: weights take ${d.inputs} inputs but the previous layer gives ${st.width} features`);
  }
  if (d.w.length !== d.inputs * d.units) throw invalidModel(`${nodeLabel(n)}: weights have ${d.w.length} values, not ${d.inputs}×${d.units}`);
  st.inputs ??= d.inputs;
  st.width = d.units;
  st.work.push(d);
}

/** Scale rows of W and the bias (float64; rounded to float32 when the spec is built). */
function foldIntoDense(d: WorkDense, s: ArrayLike<number>, t: ArrayLike<number>): void {
  const w = d.w instanceof Float64Array ? d.w : Float64Array.from(d.w);
  const b = new Float64Array(d.units);
  const bcast = (a: ArrayLike<number>, u: number) => a[a.length === 1 ? 0 : u]!;
  for (let u = 0; u < d.units; u++) {
    const su = bcast(s, u);
    if (su !== 1) for (let k = u * d.inputs, e = k + d.inputs; k < e; k++) w[k] = w[k]! * su;
    b[u] = (d.b ? d.b[u]! : 0) * su + bcast(t, u);
  }
  d.w = w;
  d.b = b;
}

function addAffine(st: MapState, s: Float64Array, t: Float64Array, name: string, n: Node): void {
  const last = st.work[st.work.length - 1];
  if (last?.kind === 'dense' && last.activation === undefined) {
    if (s.length !== 1 && s.length !== last.units) throw invalidModel(`${nodeLabel(n)}: ${s.length} values for ${last.units} features`);
    foldIntoDense(last, s, t);
    return;
  }
  const width = st.width ?? (s.length > 1 ? s.length : undefined);
  if (width === undefined) throw unsupportedModel(`${nodeLabel(n)}: cannot tell how many features the input has`);
  const full = (a: Float64Array) => (a.length === width ? a : new Float64Array(width).fill(a[0]!));
  if (last?.kind === 'affine') {
    const fs = full(s);
    const ft = full(t);
    for (let k = 0; k < width; k++) {
      last.s[k] = last.s[k]! * fs[k]!;
      last.t[k] = last.t[k]! * fs[k]! + ft[k]!;
    }
    return;
  }
  st.width = width;
  st.inputs ??= width;
  st.work.push({ kind: 'affine', name, s: Float64Array.from(full(s)), t: Float64Array.from(full(t)) });
}

function addActivation(st: MapState, spec: ActivationSpec, name: string): void {
  if (spec === 'linear') return;
  const last = st.work[st.work.length - 1];
  if (last?.kind === 'dense' && last.activation === undefined) {
    last.activation = spec;
    return;
  }
  st.work.push({ kind: 'done', layer: { type: 'activation', activation: spec, name } });
}

function finish(st: MapState, inputName: string): ImportedModelSpec {
  const layers: ImportedLayer[] = [];
  for (const w of st.work) {
    if (w.kind === 'done') layers.push(w.layer);
    else if (w.kind === 'affine') {
      const n = w.s.length;
      layers.push({
        type: 'batchNorm', name: w.name, epsilon: 0,
        mean: new Float32Array(n), variance: new Float32Array(n).fill(1), scale: f32(w.s), offset: f32(w.t),
      });
    } else {
      const d: ImportedDenseLayer = {
        type: 'dense', name: w.name, inputs: w.inputs, units: w.units, weights: f32(w.w), activation: w.activation ?? 'linear',
      };
      if (w.b) d.bias = f32(w.b);
      layers.push(d);
    }
  }
  if (layers.length === 0) throw unsupportedModel(`ONNX graph computes nothing from ${quote(inputName)} (no layers)`);
  if (st.inputs === undefined) throw unsupportedModel(`cannot tell how many features ${quote(inputName)} has (no dims in the file and no dense layer)`);
  return { format: 'simdnn', version: 1, inputs: st.inputs, layers };
}

function shapeOf(v: Extract<Value, { kind: 'data' }>, n: Node): Value {
  const dims = v.dims;
  if (!dims) throw unsupportedModel(`${nodeLabel(n)}: the shape of its input is not known`);
  let start = attrNum(n, 'start', 0);
  let end = attrNum(n, 'end', dims.length);
  const clamp = (i: number) => Math.max(0, Math.min(dims.length, i < 0 ? i + dims.length : i));
  start = clamp(start);
  end = clamp(end);
  const s = dims.slice(start, end);
  if (s.every((d) => typeof d === 'number')) return { kind: 'const', t: { dtype: DT.INT64, dims: [s.length], data: Float64Array.from(s as number[]) } };
  return { kind: 'shape', v: s, scalar: false };
}

/** Dims after Reshape(input dims, target) per ONNX: 0 copies (unless allowzero), −1 is inferred. */
function reshapeDims(dims: Dim[], target: Dim[], allowzero: boolean): Dim[] | undefined {
  const out: Dim[] = target.map((t, i) => (t === 0 && !allowzero ? dims[i] ?? '?' : t));
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) return undefined;
  if (minus === 1) {
    // Batch × features in, batch × something out: −1 is whatever keeps the total.
    const known = out.filter((d) => d !== -1);
    if (dims.length === 2 && known.length === 1 && known[0] === dims[0]) return out.map((d) => (d === -1 ? dims[1]! : d));
    if (dims.length === 2 && known.length === 1 && known[0] === dims[1] && typeof dims[1] === 'number') return out.map((d) => (d === -1 ? dims[0]! : d));
    if (dims.every((d) => typeof d === 'number') && known.every((d) => typeof d === 'number')) {
      const total = size(dims as number[]);
      const rest = size(known as number[]);
      return out.map((d) => (d === -1 ? (rest > 0 ? total / rest : '?') : d));
    }
    return out.map((d) => (d === -1 ? '?' : d));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Constant folding

/** Evaluate a node whose inputs are all constants. `limit` bounds the elements of a result that
 *  could grow beyond its inputs (Gather, ConstantOfShape). */
function foldConstant(n: Node, ins: Array<Tensor | undefined>, opset: number, limit: number): Tensor | undefined {
  const a = ins[0];
  const where = nodeLabel(n);
  switch (n.opType) {
    case 'Constant': return constantNode(n);
    case 'Identity': case 'Dropout': return a;
    case 'Cast': {
      if (!a) return undefined;
      const to = attrNum(n, 'to', 0);
      if (a.strings) return undefined;
      if (to === DT.FLOAT) return { dtype: to, dims: a.dims, data: a.data instanceof Float32Array ? a.data : Float32Array.from(a.data) };
      if (to === DT.DOUBLE) return { dtype: to, dims: a.dims, data: Float64Array.from(a.data) };
      if (to === DT.FLOAT16 || to === DT.BFLOAT16) return undefined;
      if (to === DT.BOOL) return { dtype: to, dims: a.dims, data: a.data.map((v) => (v !== 0 ? 1 : 0)) };
      return { dtype: to, dims: a.dims, data: Float64Array.from(a.data, (v) => Math.trunc(v)) };
    }
    case 'Expand': {
      // A constant broadcast to a shape (onnxscript's default BatchNormalization weight and bias:
      // Expand(CastLike(1), Shape(x, start=1, end=2))).
      const shape = ins[1];
      if (!a || !shape || a.strings || isFloatType(shape.dtype)) return undefined;
      const target = Array.from(shape.data);
      const rank = Math.max(a.dims.length, target.length);
      const da = [...Array<number>(rank - a.dims.length).fill(1), ...a.dims];
      const dt = [...Array<number>(rank - target.length).fill(1), ...target];
      const dims: number[] = [];
      for (let i = 0; i < rank; i++) {
        if (!Number.isInteger(dt[i]) || dt[i]! < 0 || (da[i] !== dt[i] && da[i] !== 1 && dt[i] !== 1)) {
          throw invalidModel(`${where}: cannot expand [${a.dims.join(', ')}] to [${target.join(', ')}]`);
        }
        dims.push(da[i] === 1 ? dt[i]! : da[i]!);
      }
      const total = elementCount(dims, where);
      if (total > limit) throw unsupportedModel(`${where}: a constant of ${total} values is more than this file's size allows`);
      const r = broadcast(a, { dtype: a.dtype, dims, data: new Float64Array(total) }, (x) => x);
      return r ? roundTo(a.dtype, r.dims, r.data) : undefined;
    }
    case 'CastLike': {
      const like = ins[1];
      if (!a || !like || a.strings || like.strings) return undefined;
      const to = like.dtype;
      if (to === DT.FLOAT) return { dtype: to, dims: a.dims, data: Float32Array.from(a.data) };
      if (to === DT.DOUBLE) return { dtype: to, dims: a.dims, data: Float64Array.from(a.data) };
      return undefined;
    }
    case 'Transpose': {
      if (!a || a.strings) return undefined;
      const rank = a.dims.length;
      const perm = attrInts(n, 'perm') ?? a.dims.map((_, i) => rank - 1 - i);
      if (perm.length !== rank || new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) {
        throw invalidModel(`${where}: perm [${perm.join(', ')}] is not a permutation of ${rank} axes`);
      }
      return { dtype: a.dtype, dims: perm.map((p) => a.dims[p]!), data: permute(a.data, a.dims, perm) };
    }
    case 'Reshape': {
      const shape = ins[1] ? Array.from(ins[1].data) : attrInts(n, 'shape');
      if (!a || !shape) return undefined;
      const d = reshapeDims(a.dims, shape, attrNum(n, 'allowzero', 0) === 1);
      if (!d || d.some((x) => typeof x !== 'number' || x < 0) || size(d as number[]) !== a.data.length) {
        throw invalidModel(`${where}: cannot reshape [${a.dims.join(', ')}] to [${shape.join(', ')}]`);
      }
      return { ...a, dims: d as number[] };
    }
    case 'Flatten': {
      if (!a) return undefined;
      let axis = attrNum(n, 'axis', 1);
      if (axis < 0) axis += a.dims.length;
      return { ...a, dims: [size(a.dims.slice(0, axis)), size(a.dims.slice(axis))] };
    }
    case 'Squeeze': case 'Unsqueeze': {
      if (!a) return undefined;
      const axes = (ins[1] ? Array.from(ins[1].data) : attrInts(n, 'axes')) ?? [];
      if (n.opType === 'Squeeze') {
        const rank = a.dims.length;
        const drop = new Set(axes.map((x) => (x < 0 ? x + rank : x)));
        return { ...a, dims: a.dims.filter((d, i) => (axes.length ? !drop.has(i) : d !== 1)) };
      }
      const rank = a.dims.length + axes.length;
      const add = new Set(axes.map((x) => (x < 0 ? x + rank : x)));
      const dims: number[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) dims.push(add.has(i) ? 1 : a.dims[k++] ?? 1);
      return { ...a, dims };
    }
    case 'Shape': {
      if (!a) return undefined;
      return { dtype: DT.INT64, dims: [a.dims.length], data: Float64Array.from(a.dims) };
    }
    case 'Concat': {
      const parts = ins.filter((t): t is Tensor => !!t);
      if (parts.length === 0 || parts.some((p) => p.strings)) return undefined;
      const rank = parts[0]!.dims.length;
      let axis = attrNum(n, 'axis', 0);
      if (axis < 0) axis += rank;
      if (rank === 1 || parts.every((p) => p.dims.length <= 1)) {
        const total = parts.reduce((s, p) => s + p.data.length, 0);
        const out = isFloatType(parts[0]!.dtype) && parts[0]!.data instanceof Float32Array ? new Float32Array(total) : new Float64Array(total);
        let o = 0;
        for (const p of parts) { out.set(p.data, o); o += p.data.length; }
        return { dtype: parts[0]!.dtype, dims: [total], data: out };
      }
      return undefined;
    }
    case 'Gather': {
      const idx = ins[1];
      if (!a || !idx || a.strings || attrNum(n, 'axis', 0) !== 0) return undefined;
      const rows = a.dims[0] ?? 1;
      const inner = size(a.dims.slice(1));
      if (idx.data.length * inner > limit) throw unsupportedModel(`${where}: gathers ${idx.data.length * inner} values, more than this file's size allows`);
      const out = new (a.data.constructor as Float64ArrayConstructor)(idx.data.length * inner);
      idx.data.forEach((i, k) => {
        const r = i < 0 ? i + rows : i;
        if (r < 0 || r >= rows) throw invalidModel(`${where}: index ${i} out of range for ${rows} rows`);
        out.set(a.data.subarray(r * inner, (r + 1) * inner), k * inner);
      });
      return { dtype: a.dtype, dims: [...idx.dims, ...a.dims.slice(1)], data: out };
    }
    case 'Slice': {
      if (!a || a.dims.length !== 1) return undefined;
      const get = (i: number, attr: string) => (opset >= 10 ? (ins[i] ? Array.from(ins[i]!.data) : undefined) : attrInts(n, attr));
      const starts = get(1, 'starts');
      const ends = get(2, 'ends');
      const steps = get(4, 'steps');
      if (!starts || !ends || starts.length !== 1 || (steps && steps[0] !== 1)) return undefined;
      const len = a.data.length;
      const clamp = (i: number) => Math.max(0, Math.min(len, i < 0 ? i + len : i));
      const data = a.data.slice(clamp(starts[0]!), clamp(ends[0]!));
      return { dtype: a.dtype, dims: [data.length], data };
    }
    case 'ConstantOfShape': {
      if (!a) return undefined;
      const dims = Array.from(a.data);
      const total = elementCount(dims, where);
      if (total > limit) throw unsupportedModel(`${where}: a constant of ${total} values is more than this file's size allows`);
      const v = n.attrs.get('value')?.t;
      const vt = v ? tensorValues(v) : { dtype: DT.FLOAT, dims: [1], data: new Float32Array(1) };
      const data = new (vt.data.constructor as Float64ArrayConstructor)(total).fill(vt.data[0] ?? 0);
      return { dtype: vt.dtype, dims, data };
    }
    case 'Neg': case 'Sqrt': case 'Reciprocal': case 'Abs': case 'Exp': {
      if (!a || a.strings) return undefined;
      const f = unary(n.opType, (name, d) => attrNum(n, name, d))!;
      return roundTo(a.dtype, a.dims, Float64Array.from(a.data, f));
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': {
      const b = ins[1];
      if (!a || !b || a.strings || b.strings) return undefined;
      const r = broadcast(a, b, binary(n.opType)!);
      return r ? roundTo(a.dtype, r.dims, r.data) : undefined;
    }
    default: return undefined;
  }
}

function roundTo(dtype: number, dims: number[], data: Float64Array): Tensor {
  if (dtype === DT.FLOAT || dtype === DT.FLOAT16 || dtype === DT.BFLOAT16) return { dtype: DT.FLOAT, dims, data: Float32Array.from(data) };
  if (dtype === DT.DOUBLE) return { dtype, dims, data };
  return { dtype, dims, data: data.map(Math.trunc) };
}

/** Numpy-style broadcasting of two constants, only where the result is no larger than an operand. */
function broadcast(a: Tensor, b: Tensor, f: (x: number, y: number) => number): { dims: number[]; data: Float64Array } | undefined {
  const rank = Math.max(a.dims.length, b.dims.length);
  const da = [...Array(rank - a.dims.length).fill(1), ...a.dims] as number[];
  const db = [...Array(rank - b.dims.length).fill(1), ...b.dims] as number[];
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (da[i] !== db[i] && da[i] !== 1 && db[i] !== 1) return undefined;
    dims.push(Math.max(da[i]!, db[i]!));
  }
  const total = size(dims);
  if (total > Math.max(a.data.length, b.data.length)) return undefined;
  const out = new Float64Array(total);
  const idx = new Array(rank).fill(0);
  const stride = (d: number[]) => {
    const s = new Array(rank).fill(0);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) { s[i] = d[i] === 1 ? 0 : acc; acc *= d[i]!; }
    return s;
  };
  const sa = stride(da);
  const sb = stride(db);
  for (let k = 0; k < total; k++) {
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < rank; i++) { ia += idx[i] * sa[i]; ib += idx[i] * sb[i]; }
    out[k] = f(a.data[ia]!, b.data[ib]!);
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < dims[i]!) break;
      idx[i] = 0;
    }
  }
  return { dims, data: out };
}

function permute<T extends Float32Array | Float64Array>(data: T, dims: number[], perm: number[]): T {
  const rank = dims.length;
  if (rank === 2 && perm[0] === 1) return transpose(data, dims[0]!, dims[1]!);
  if (perm.every((p, i) => p === i)) return data;
  const out = new (data.constructor as { new (n: number): T })(data.length);
  const inStride = new Array(rank).fill(0);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) { inStride[i] = acc; acc *= dims[i]!; }
  const outDims = perm.map((p) => dims[p]!);
  const idx = new Array(rank).fill(0);
  for (let k = 0; k < data.length; k++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i] * inStride[perm[i]!];
    out[k] = data[src]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < outDims[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
}

function constantNode(n: Node): Tensor | undefined {
  const [a] = [...n.attrs.values()] as [Attribute | undefined];
  if (!a || n.attrs.size !== 1) throw invalidModel(`${nodeLabel(n)}: a Constant needs exactly one value attribute`);
  switch (a.name) {
    case 'value': if (a.t) return tensorValues(a.t); break;
    case 'value_float': if (a.f !== undefined) return { dtype: DT.FLOAT, dims: [], data: Float32Array.of(a.f) }; break;
    case 'value_floats': return { dtype: DT.FLOAT, dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []) };
    case 'value_int': if (a.i !== undefined) return { dtype: DT.INT64, dims: [], data: Float64Array.of(a.i) }; break;
    case 'value_ints': return { dtype: DT.INT64, dims: [a.ints?.length ?? 0], data: Float64Array.from(a.ints ?? []) };
    case 'value_string': case 'value_strings': {
      const list = a.name === 'value_string' ? (a.s ? [a.s] : []) : a.strings ?? [];
      const dec = new TextDecoder();
      return { dtype: DT.STRING, dims: a.name === 'value_string' ? [] : [list.length], data: new Float64Array(0), strings: list.map((s) => dec.decode(s)) };
    }
    default: break;
  }
  throw unsupportedModel(`${nodeLabel(n)}: Constant attribute ${quote(a.name)}${a.other ? ` (${a.other})` : ''} is not supported`);
}

// TensorFlow.js layers models → simdnn model spec: the model.json that TF.js `model.save()` and the
// `tensorflowjs` converter (from Keras 2 or Keras 3) write, and the weights its manifest describes.
// Sequential models and functional models that are a single chain; Dense (kernel [in][units]),
// Activation, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, BatchNormalization (folded into
// the Dense before it), and the layers that do nothing at inference (InputLayer, Dropout and its
// noise variants, Flatten and Reshape of [batch, n]).

import { copyBytes } from '../arrays.js';
import { SimdnnError, describe } from '../errors.js';
import type { ActivationSpec } from '../activations.js';
import { readF32 } from './protobuf.js';
import {
  halfToFloat32, invalidModel, quote, readU16, transpose, unsupportedModel,
  type ImportedLayer, type ImportedModelSpec, type WorkDense,
} from './spec.js';

/** The weights: one buffer holding every shard in manifest order, the shards in manifest order,
 *  or the shards by their path in the manifest. */
export type TfjsWeights =
  | ArrayBuffer | ArrayBufferView
  | ReadonlyArray<ArrayBuffer | ArrayBufferView>
  | Record<string, ArrayBuffer | ArrayBufferView>
  | Map<string, ArrayBuffer | ArrayBufferView>;

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number; original_dtype?: string };
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Layer classes that do nothing at inference time. */
const NO_OPS = new Set(['InputLayer', 'Dropout', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'SpatialDropout1D',
  'ActivityRegularization', 'Identity']);

/** Layer classes this importer maps (for error messages and the README). */
export const SUPPORTED_LAYERS: readonly string[] = [
  'InputLayer', 'Dense', 'Activation', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax', 'BatchNormalization',
  'Dropout', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'ActivityRegularization', 'Identity', 'Flatten', 'Reshape',
];

/** Keras/TF.js activation names → simdnn. `keras3` changes hard_sigmoid (x/6 + 1/2 instead of 0.2x + 1/2). */
function activation(raw: unknown, keras3: boolean, where: string): ActivationSpec {
  let name: unknown = raw;
  if (isObj(raw)) name = typeof raw.config === 'string' ? raw.config : isObj(raw.config) && typeof raw.config.name === 'string' ? raw.config.name : raw.class_name;
  if (name === null || name === undefined) return 'linear';
  if (typeof name !== 'string') throw invalidModel(`${where}: activation must be a name, found ${describe(name)}`);
  const key = name.toLowerCase().replace(/[_\s-]/g, '');
  const map: Record<string, ActivationSpec> = {
    linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu', selu: 'selu', softplus: 'softplus', softsign: 'softsign',
    sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax', logsoftmax: 'logSoftmax', swish: 'silu', silu: 'silu', mish: 'mish',
    gelu: { name: 'gelu', approximate: 'none' }, gelunew: { name: 'gelu', approximate: 'tanh' }, exponential: 'exp',
    hardsilu: 'hardSwish', hardswish: 'hardSwish', leakyrelu: { name: 'leakyRelu', alpha: 0.2 }, celu: 'celu',
    hardtanh: { name: 'clip', min: -1, max: 1 },
    hardsigmoid: keras3 ? { name: 'hardSigmoid', alpha: 1 / 6, beta: 0.5 } : 'hardSigmoid',
  };
  const spec = map[key];
  if (spec === undefined) {
    throw unsupportedModel(`${where}: activation ${quote(name)} is not supported (supported: ${Object.keys(map).join(', ')})`);
  }
  return spec;
}

/** Import a TF.js layers model: `modelJson` is model.json (text or parsed), `weights` its weight data. */
export function tfjsToSpec(modelJson: unknown, weights?: TfjsWeights): ImportedModelSpec {
  let json: unknown = modelJson;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (err) {
      throw invalidModel(`TF.js model.json is not valid JSON (${(err as Error).message})`);
    }
  } else if (json instanceof Uint8Array || json instanceof ArrayBuffer) {
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
    } catch (err) {
      throw invalidModel(`TF.js model.json is not valid UTF-8 JSON (${(err as Error).message})`);
    }
  }
  if (!isObj(json)) throw new SimdnnError('INVALID_ARGUMENT', `tfjsToSpec: modelJson must be model.json (text or object), received ${describe(modelJson)}`);
  if (json.format === 'graph-model') {
    throw unsupportedModel(`TF.js graph models (model.json with format "graph-model") are not supported; simdnn imports layers models (tensorflowjs_converter --output_format=tfjs_layers_model, or TF.js model.save())`);
  }
  let topology = json.modelTopology ?? (json.class_name !== undefined ? json : undefined);
  if (!isObj(topology)) throw invalidModel(`TF.js model.json has no modelTopology (is it a graph model? simdnn reads layers models)`);
  const kerasVersion = String(topology.keras_version ?? '');
  if (isObj(topology.model_config)) topology = topology.model_config;
  const t = topology as Json;
  const specs = weightSpecs(json);
  const data = weights ?? (json.weightData as TfjsWeights | undefined);
  const values = decodeWeights(specs, data);
  const layers = layerChain(t);
  const keras3 = kerasVersion.startsWith('3') || layers.some((l) => typeof l.module === 'string' || typeof l.registered_name === 'string');
  return buildSpec(layers, values, specs, keras3);
}

/** The manifest as a list of groups, each with its shard paths and weights. */
function weightSpecs(json: Json): Array<{ paths: string[]; weights: WeightSpec[] }> {
  let groups: unknown = json.weightsManifest;
  if (groups === undefined && Array.isArray(json.weightSpecs)) groups = [{ paths: [], weights: json.weightSpecs }];
  if (groups === undefined) return [];
  if (!Array.isArray(groups)) throw invalidModel('TF.js weightsManifest must be an array of {paths, weights} groups');
  return groups.map((g, gi) => {
    if (!isObj(g) || !Array.isArray(g.weights)) throw invalidModel(`TF.js weightsManifest[${gi}] must be {paths, weights}`);
    const paths = Array.isArray(g.paths) ? g.paths.map(String) : [];
    const ws = g.weights.map((w, wi): WeightSpec => {
      const where = `TF.js weightsManifest[${gi}].weights[${wi}]`;
      if (!isObj(w) || typeof w.name !== 'string') throw invalidModel(`${where} must have a name`);
      if (!Array.isArray(w.shape) || w.shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
        throw invalidModel(`${where} (${quote(w.name)}): shape must be an array of non-negative integers`);
      }
      const spec: WeightSpec = { name: w.name, shape: w.shape as number[], dtype: typeof w.dtype === 'string' ? w.dtype : 'float32' };
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isObj(q) || typeof q.dtype !== 'string') throw invalidModel(`${where} (${quote(w.name)}): quantization must be {dtype, …}`);
        if (q.dtype === 'uint8' || q.dtype === 'uint16') {
          if (typeof q.min !== 'number' || typeof q.scale !== 'number' || !Number.isFinite(q.min) || !Number.isFinite(q.scale)) {
            throw invalidModel(`${where} (${quote(w.name)}): ${q.dtype} quantization needs finite min and scale`);
          }
        } else if (q.dtype !== 'float16') {
          throw unsupportedModel(`${where} (${quote(w.name)}): quantization dtype ${quote(q.dtype)} is not supported (uint8, uint16, float16 are)`);
        }
        spec.quantization = q as WeightSpec['quantization'];
      }
      return spec;
    });
    return { paths, weights: ws };
  });
}

/** The bytes of a weights argument, copied by their real size (a Proxy or a lying length cannot
 *  change what is read). */
function bytesOf(b: unknown, what: string): Uint8Array {
  const bytes = copyBytes(b, `tfjsToSpec: ${what}`);
  if (bytes) return bytes;
  throw new SimdnnError('INVALID_ARGUMENT', `tfjsToSpec: ${what} must be an ArrayBuffer or a typed array, received ${describe(b)}`);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2, bool: 1 };

/** Decode every weight into float32, after checking that the shards add up to what the manifest says. */
function decodeWeights(groups: Array<{ paths: string[]; weights: WeightSpec[] }>, data: TfjsWeights | undefined): Map<string, { shape: number[]; data: Float32Array }> {
  const sizes = groups.map((g) => g.weights.map((w) => {
    const per = BYTES[w.quantization?.dtype ?? w.dtype];
    if (per === undefined) throw unsupportedModel(`TF.js weight ${quote(w.name)} has dtype ${quote(w.dtype)}`);
    let n = 1;
    for (const d of w.shape) {
      n *= d;
      if (n > 2 ** 31) throw invalidModel(`TF.js weight ${quote(w.name)}: shape [${w.shape.join(', ')}] is too large`);
    }
    return { n, bytes: n * per };
  }));
  const groupBytes = sizes.map((s) => s.reduce((a, b) => a + b.bytes, 0));
  const total = groupBytes.reduce((a, b) => a + b, 0);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  if (total === 0 && data === undefined) return out;
  if (data === undefined) throw new SimdnnError('INVALID_ARGUMENT', `tfjsToSpec: the manifest lists ${total} bytes of weights; pass them as the second argument`);
  // One view over all groups' bytes, in manifest order.
  let all: Uint8Array;
  const paths = groups.flatMap((g) => g.paths);
  const concat = (parts: Uint8Array[]) => {
    if (parts.length === 1) return parts[0]!;
    const sum = parts.reduce((a, p) => a + p.length, 0);
    const buf = new Uint8Array(sum);
    let o = 0;
    for (const p of parts) { buf.set(p, o); o += p.length; }
    return buf;
  };
  if (Array.isArray(data)) {
    if (paths.length && data.length !== paths.length) {
      throw invalidModel(`TF.js weights: the manifest lists ${paths.length} shard files (${paths.slice(0, 4).map(quote).join(', ')}${paths.length > 4 ? ', …' : ''}) but ${data.length} buffers were given`);
    }
    const shards = data.map((d, i) => bytesOf(d, `weights[${i}]`));
    // Each group's weights must lie in that group's shards.
    let k = 0;
    groups.forEach((g, gi) => {
      if (!paths.length) return;
      const got = shards.slice(k, k + g.paths.length).reduce((a, s) => a + s.length, 0);
      k += g.paths.length;
      if (got !== groupBytes[gi]) throw invalidModel(`TF.js weights: group ${gi}'s shards hold ${got} bytes but its weights need ${groupBytes[gi]}`);
    });
    all = concat(shards);
  } else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    all = bytesOf(data, 'weights');
  } else if (data instanceof Map || isObj(data)) {
    const get = (p: string) => (data instanceof Map ? data.get(p) : Object.prototype.hasOwnProperty.call(data, p) ? (data as Record<string, unknown>)[p] : undefined);
    all = concat(paths.map((p) => {
      const b = get(p);
      if (b === undefined) throw invalidModel(`TF.js weights: no data for shard ${quote(p)}`);
      return bytesOf(b, `weights[${quote(p)}]`);
    }));
  } else {
    throw new SimdnnError('INVALID_ARGUMENT', `tfjsToSpec: weights must be an ArrayBuffer, a typed array, an array of shards or an object of shards by path, received ${describe(data)}`);
  }
  if (all.length !== total) {
    throw invalidModel(`TF.js weights: the shards add up to ${all.length} bytes but the manifest's weights need ${total}`);
  }
  let offset = 0;
  groups.forEach((g, gi) => g.weights.forEach((w, wi) => {
    const { n, bytes } = sizes[gi]![wi]!;
    const q = w.quantization;
    let values: Float32Array;
    if (!q) {
      if (w.dtype === 'float32') values = readF32(all, offset, n);
      else if (w.dtype === 'int32') values = Float32Array.from(new Int32Array(all.slice(offset, offset + bytes).buffer));
      else values = Float32Array.from(all.subarray(offset, offset + bytes));
    } else if (q.dtype === 'float16') {
      values = halfToFloat32(readU16(all, offset, n));
    } else {
      const raw = q.dtype === 'uint8' ? all.subarray(offset, offset + n) : readU16(all, offset, n);
      values = new Float32Array(n);
      const { scale, min } = q as { scale: number; min: number };
      for (let i = 0; i < n; i++) values[i] = raw[i]! * scale + min;
    }
    offset += bytes;
    if (out.has(w.name)) throw invalidModel(`TF.js weights: ${quote(w.name)} is listed twice in the manifest`);
    out.set(w.name, { shape: w.shape, data: values });
  }));
  return out;
}

interface Layer extends Json {
  class_name: string;
  config: Json;
  name: string;
}

/** The layers of a Sequential model, or of a functional Model that is one chain, in order. */
function layerChain(t: Json): Layer[] {
  const cls = t.class_name;
  const cfg = t.config;
  const asLayer = (l: unknown, i: number): Layer => {
    if (!isObj(l) || typeof l.class_name !== 'string') throw invalidModel(`TF.js layer ${i} must be {class_name, config}`);
    const config = isObj(l.config) ? l.config : {};
    const name = typeof config.name === 'string' ? config.name : typeof l.name === 'string' ? l.name : `layer_${i}`;
    return { ...l, class_name: l.class_name, config, name };
  };
  if (cls === 'Sequential') {
    const list = Array.isArray(cfg) ? cfg : isObj(cfg) && Array.isArray(cfg.layers) ? cfg.layers : undefined;
    if (!list) throw invalidModel('TF.js Sequential model has no layers');
    return list.map(asLayer);
  }
  if (cls === 'Model' || cls === 'Functional') {
    if (!isObj(cfg) || !Array.isArray(cfg.layers)) throw invalidModel(`TF.js ${cls} model has no layers`);
    const layers = cfg.layers.map(asLayer);
    const byName = new Map(layers.map((l) => [l.name, l]));
    if (byName.size !== layers.length) throw invalidModel(`TF.js ${cls} model has two layers with the same name`);
    // Each layer's one inbound layer (Keras 2 / TF.js: [[[name, node, tensor, kwargs]]]; Keras 3:
    // [{args: [{class_name: '__keras_tensor__', config: {keras_history: [name, node, tensor]}}]}]).
    const inbound = new Map<Layer, string[]>();
    for (const l of layers) {
      const nodes = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
      if (nodes.length > 1) throw unsupportedModel(`TF.js layer ${quote(l.name)} (${l.class_name}) is called ${nodes.length} times (shared layers are not supported)`);
      const srcs: string[] = [];
      for (const node of nodes) {
        if (Array.isArray(node)) {
          for (const e of node) if (Array.isArray(e) && typeof e[0] === 'string') srcs.push(e[0]);
        } else if (isObj(node)) {
          const walk = (v: unknown, depth: number): void => {
            if (depth > 8) return;
            if (isObj(v)) {
              const hist = isObj(v.config) ? v.config.keras_history : undefined;
              if (v.class_name === '__keras_tensor__' && Array.isArray(hist) && typeof hist[0] === 'string') srcs.push(hist[0]);
              else for (const x of Object.values(v)) walk(x, depth + 1);
            } else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
          };
          walk(node.args, 0);
        }
      }
      inbound.set(l, srcs);
    }
    const ends = (v: unknown): string[] => {
      if (!Array.isArray(v)) return [];
      if (typeof v[0] === 'string') return [v[0]];
      return v.flatMap((e) => (Array.isArray(e) && typeof e[0] === 'string' ? [e[0]] : []));
    };
    const ins = ends(cfg.input_layers);
    const outs = ends(cfg.output_layers);
    if (ins.length !== 1 || outs.length !== 1) {
      throw unsupportedModel(`TF.js ${cls} model has ${ins.length} inputs and ${outs.length} outputs; simdnn imports single-input single-output chains`);
    }
    const consumers = new Map<string, Layer[]>();
    for (const l of layers) {
      const srcs = inbound.get(l)!;
      if (srcs.length > 1) throw unsupportedModel(`TF.js layer ${quote(l.name)} (${l.class_name}) takes ${srcs.length} inputs (${srcs.map(quote).join(', ')}); simdnn imports chains`);
      for (const s of srcs) {
        if (!byName.has(s)) throw invalidModel(`TF.js layer ${quote(l.name)} reads ${quote(s)}, which is not a layer of the model`);
        consumers.set(s, [...(consumers.get(s) ?? []), l]);
      }
    }
    const chain: Layer[] = [];
    let cur = byName.get(ins[0]!);
    if (!cur) throw invalidModel(`TF.js ${cls} model input ${quote(ins[0])} is not a layer of the model`);
    const seen = new Set<Layer>();
    while (cur) {
      if (seen.has(cur)) throw unsupportedModel(`TF.js ${cls} model has a cycle through ${quote(cur.name)}`);
      seen.add(cur);
      chain.push(cur);
      if (cur.name === outs[0]) break;
      const next: Layer[] = consumers.get(cur.name) ?? [];
      if (next.length !== 1) {
        throw unsupportedModel(`TF.js layer ${quote(cur.name)} (${cur.class_name}) feeds ${next.length} layers${next.length ? ` (${next.map((n) => quote(n.name)).join(', ')})` : ''}; simdnn imports a single chain from input to output`);
      }
      cur = next[0];
    }
    if (chain[chain.length - 1]!.name !== outs[0]) throw invalidModel(`TF.js ${cls} model output ${quote(outs[0])} is not reached from its input`);
    return chain;
  }
  throw unsupportedModel(`TF.js model class ${quote(cls)} is not supported (Sequential and chain-shaped Model/Functional are)`);
}

/** Weight kinds each layer class owns, in the order Keras lists them. */
const WEIGHT_KINDS: Record<string, (c: Json) => string[]> = {
  Dense: (c) => (c.use_bias === false ? ['kernel'] : ['kernel', 'bias']),
  PReLU: () => ['alpha'],
  BatchNormalization: (c) => [...(c.scale === false ? [] : ['gamma']), ...(c.center === false ? [] : ['beta']), 'moving_mean', 'moving_variance'],
};

/** Weights per layer: by name (`…<layer>/<kind>`), else in manifest order. */
function assignWeights(layers: Layer[], values: Map<string, { shape: number[]; data: Float32Array }>, order: string[]): Map<Layer, Map<string, { shape: number[]; data: Float32Array }>> {
  const needs = layers.map((l) => ({ l, kinds: WEIGHT_KINDS[l.class_name]?.(l.config) ?? [] }));
  const strip = (n: string) => n.replace(/:\d+$/, '');
  const byName = new Map<Layer, Map<string, { shape: number[]; data: Float32Array }>>();
  let named = true;
  for (const { l, kinds } of needs) {
    const m = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const k of kinds) {
      const exact = `${l.name}/${k}`;
      const hit = order.find((n) => strip(n) === exact) ?? order.find((n) => strip(n).endsWith(`/${exact}`));
      if (hit === undefined) { named = false; break; }
      m.set(k, values.get(hit)!);
    }
    if (!named) break;
    byName.set(l, m);
  }
  if (named) return byName;
  // Names do not match the layers: take the weights in manifest order, layer by layer.
  const byOrder = new Map<Layer, Map<string, { shape: number[]; data: Float32Array }>>();
  let i = 0;
  for (const { l, kinds } of needs) {
    const m = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const k of kinds) {
      const n = order[i++];
      if (n === undefined) throw invalidModel(`TF.js weights: layer ${quote(l.name)} needs ${quote(k)} but the manifest has no more weights`);
      m.set(k, values.get(n)!);
    }
    byOrder.set(l, m);
  }
  if (i !== order.length) throw invalidModel(`TF.js weights: the manifest has ${order.length} weights but the layers use ${i}`);
  return byOrder;
}



function buildSpec(layers: Layer[], values: Map<string, { shape: number[]; data: Float32Array }>, groups: Array<{ weights: WeightSpec[] }>, keras3: boolean): ImportedModelSpec {
  const order = groups.flatMap((g) => g.weights.map((w) => w.name));
  const weights = assignWeights(layers, values, order);
  const out: Array<WorkDense | ImportedLayer> = [];
  let width: number | undefined;
  let inputs: number | undefined;
  let rank = 2;
  const where = (l: Layer) => `TF.js layer ${quote(l.name)} (${l.class_name})`;
  const inputShape = (c: Json) => {
    const s = c.batch_input_shape ?? c.batch_shape ?? (Array.isArray(c.input_shape) ? [null, ...c.input_shape] : undefined) ?? (typeof c.input_dim === 'number' ? [null, c.input_dim] : undefined);
    return Array.isArray(s) ? s : undefined;
  };
  const act = (spec: ActivationSpec, name: string) => {
    if (spec === 'linear') return;
    const last = out[out.length - 1];
    if (last && 'kind' in last && last.activation === undefined) last.activation = spec;
    else out.push({ type: 'activation', activation: spec, name });
  };
  const tensor = (l: Layer, kind: string, shape: number[]) => {
    const t = weights.get(l)?.get(kind);
    if (!t) throw invalidModel(`${where(l)} has no ${quote(kind)} weight`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => shape[i]! >= 0 && d !== shape[i])) {
      throw invalidModel(`${where(l)}: ${kind} has shape [${t.shape.join(', ')}], expected [${shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`);
    }
    return t;
  };
  for (const l of layers) {
    const c = l.config;
    const shape = inputShape(c);
    if (shape && out.length === 0 && width === undefined) {
      rank = shape.length;
      const last = shape[shape.length - 1];
      if (rank === 2 && typeof last === 'number') width = inputs = last;
    }
    const cls = l.class_name;
    if (rank !== 2 && cls !== 'InputLayer') {
      if (cls === 'Flatten') throw unsupportedModel(`${where(l)} flattens a rank-${rank} input; simdnn models take [batch, features] input for now`);
      throw unsupportedModel(`${where(l)}: the model's input has rank ${rank}; simdnn models take [batch, features] input`);
    }
    switch (cls) {
      case 'Dense': {
        const units = c.units;
        if (!Number.isSafeInteger(units) || (units as number) < 1) throw invalidModel(`${where(l)}: units must be a positive integer`);
        const k = tensor(l, 'kernel', [width ?? -1, units as number]);
        const [kin] = k.shape as [number, number];
        const d: WorkDense = { kind: 'dense', name: l.name, inputs: kin, units: units as number, w: transpose(k.data, kin, units as number) };
        if (c.use_bias !== false) d.b = tensor(l, 'bias', [units as number]).data;
        inputs ??= kin;
        width = units as number;
        out.push(d);
        act(activation(c.activation, keras3, where(l)), l.name);
        break;
      }
      case 'Activation': act(activation(c.activation, keras3, where(l)), l.name); break;
      case 'ReLU': {
        const max = c.max_value ?? null;
        const slope = typeof c.negative_slope === 'number' ? c.negative_slope : 0;
        const threshold = typeof c.threshold === 'number' ? c.threshold : 0;
        if (threshold !== 0) throw unsupportedModel(`${where(l)}: threshold ${threshold} is not supported`);
        if (max !== null && typeof max !== 'number') throw invalidModel(`${where(l)}: max_value must be a number or null`);
        if (slope !== 0 && max !== null) throw unsupportedModel(`${where(l)}: negative_slope together with max_value is not supported`);
        act(slope !== 0 ? { name: 'leakyRelu', alpha: slope } : max === null ? 'relu' : max === 6 ? 'relu6' : { name: 'clip', min: 0, max }, l.name);
        break;
      }
      case 'LeakyReLU': {
        const a = c.negative_slope ?? c.alpha ?? 0.3;
        if (typeof a !== 'number') throw invalidModel(`${where(l)}: alpha must be a number`);
        act({ name: 'leakyRelu', alpha: a }, l.name);
        break;
      }
      case 'ELU': act({ name: 'elu', alpha: typeof c.alpha === 'number' ? c.alpha : 1 }, l.name); break;
      case 'ThresholdedReLU': act({ name: 'thresholdedRelu', alpha: typeof c.theta === 'number' ? c.theta : 1 }, l.name); break;
      case 'Softmax': {
        const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
        if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 1)) throw unsupportedModel(`${where(l)}: softmax over axis ${JSON.stringify(c.axis)}; simdnn normalises the last axis`);
        act('softmax', l.name);
        break;
      }
      case 'PReLU': {
        const a = weights.get(l)?.get('alpha');
        if (!a) throw invalidModel(`${where(l)} has no 'alpha' weight`);
        if (width !== undefined && a.data.length !== 1 && a.data.length !== width) throw invalidModel(`${where(l)}: alpha has ${a.data.length} values for ${width} features`);
        act(a.data.length === 1 ? { name: 'leakyRelu', alpha: a.data[0]! } : { name: 'prelu', slope: a.data }, l.name);
        break;
      }
      case 'BatchNormalization': {
        const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
        if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 1)) throw unsupportedModel(`${where(l)}: normalising axis ${JSON.stringify(c.axis)} is not the feature axis`);
        const n = width ?? weights.get(l)?.get('moving_mean')?.data.length;
        if (n === undefined) throw invalidModel(`${where(l)}: cannot tell the number of features`);
        const mean = tensor(l, 'moving_mean', [n]).data;
        const variance = tensor(l, 'moving_variance', [n]).data;
        const scale = c.scale === false ? new Float32Array(n).fill(1) : tensor(l, 'gamma', [n]).data;
        const offset = c.center === false ? new Float32Array(n) : tensor(l, 'beta', [n]).data;
        const eps = typeof c.epsilon === 'number' ? c.epsilon : 1e-3;
        const last = out[out.length - 1];
        if (last && 'kind' in last && last.activation === undefined) {
          // Fold into the dense layer in float64: W' = s·W, b' = s·(b − mean) + offset.
          const w = Float64Array.from(last.w);
          const b = new Float64Array(n);
          for (let u = 0; u < n; u++) {
            const s = scale[u]! / Math.sqrt(variance[u]! + Math.fround(eps));
            for (let k = u * last.inputs, e = k + last.inputs; k < e; k++) w[k] = w[k]! * s;
            b[u] = ((last.b ? last.b[u]! : 0) - mean[u]!) * s + offset[u]!;
          }
          last.w = w;
          last.b = b;
        } else {
          width ??= n;
          inputs ??= n;
          out.push({ type: 'batchNorm', name: l.name, mean, variance, scale, offset, epsilon: eps });
        }
        break;
      }
      case 'Flatten': break;
      case 'Reshape': {
        const ts = c.target_shape;
        if (!Array.isArray(ts) || ts.length !== 1 || (width !== undefined && ts[0] !== width && ts[0] !== -1)) {
          throw unsupportedModel(`${where(l)}: reshaping to ${JSON.stringify(ts)} is not supported (only [features])`);
        }
        break;
      }
      default:
        if (NO_OPS.has(cls)) break;
        if (cls === 'Sequential' || cls === 'Model' || cls === 'Functional') throw unsupportedModel(`${where(l)}: nested models are not supported; flatten the model into one Sequential`);
        throw unsupportedModel(`${where(l)} is not supported; simdnn imports ${SUPPORTED_LAYERS.join(', ')}`);
    }
  }
  const layersOut: ImportedLayer[] = out.map((w) => {
    if (!('kind' in w)) return w;
    const d: ImportedLayer = {
      type: 'dense', name: w.name, inputs: w.inputs, units: w.units,
      weights: w.w instanceof Float32Array ? w.w : Float32Array.from(w.w), activation: w.activation ?? 'linear',
    };
    if (w.b) d.bias = w.b instanceof Float32Array ? w.b : Float32Array.from(w.b);
    return d;
  });
  if (layersOut.length === 0) throw unsupportedModel('TF.js model has no layers that compute anything');
  if (inputs === undefined) throw unsupportedModel('TF.js model: cannot tell the number of input features (no input shape and no Dense layer)');
  return { format: 'simdnn', version: 1, inputs, layers: layersOut };
}

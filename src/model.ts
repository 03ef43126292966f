import { SimdnnError, checkInt, describe } from './errors.js';
import {
  ACTIVATION_KINDS, resolveActivation, type ActivationParams, type ActivationSpec, type CheckedActivation,
  type ResolvedActivation,
} from './activations.js';
import { checkF32, isF32, elementAt, toF32Input, typedArrayKind, realLength, type NumberArray } from './arrays.js';
import { Resource, type Registry } from './resource.js';
import * as ops from './ops.js';
import type { Ctx } from './ops.js';
import type { Exec, ModelImage } from './pool/protocol.js';
import { ioBlock, region } from './wasm/abi.js';
import { typedArraySet } from './intrinsics.js';
import type { Arena } from './wasm/memory.js';
import { Rng, checkSeed, freshSeed, initWeights, parseInitializer, type InitializerSpec } from './train/init.js';
import { TRAIN_STEP_STREAM } from './train/dropout.js';
import { Trainer, paramLayout, type LayerWeights, type MaskSource, type ParallelBlock, type TrainLayer } from './train/trainer.js';
import type { StepHost } from './train/parallel.js';
import {
  parseLoss, readFitOptions, readTrainOptions, type FitOptions, type FitRun, type History, type LossName, type Targets,
  type TrainOptions,
} from './train/options.js';
import { checkPositiveInt, countCorrect, identity, prepareInputs, prepareTargets, shuffle, yieldToEventLoop } from './train/data.js';

/** Models get ids for the worker pool (its copies are keyed by id). */
let nextModelId = 1;

/**
 * predictAsync runs on the calling thread below this many multiply-adds per call: a round trip to
 * the workers (two messages, the copies of rows and results) costs more than the work saves.
 */
const PARALLEL_FROM = 1 << 22;
/** A block of the model that calls of one kind reuse, and whether a call holds it now. */
interface Kept { ptr: number; floats: number; busy: boolean }

/** predictAsync of one row splits a dense layer's units between threads from this many weights
 *  (32 MiB: 4096² gains 1.2–1.8× on 2 threads here, 2048² between 0.8× and 1.3×). */
const COLUMNS_FROM = 1 << 23;

/** Numbers as a flat array (a typed array, number[]) or nested rows (number[][], Float32Array[]). */
export type Weights = NumberArray | ReadonlyArray<NumberArray>;

/** Where a spec takes numbers it may instead name a tensor of `nn.sequential(spec, { tensors })`. */
export type TensorName = string;

/** A tensor for `nn.sequential(spec, { tensors })`: its values (row-major) and shape, as
 *  nn.readSafetensors gives them; or just the values (shape [length]). */
export type TensorValue = { readonly shape: ReadonlyArray<number>; readonly data: ArrayLike<number> } | ArrayLike<number>;

/** Options of `nn.sequential(spec, options)`. */
export interface SequentialOptions {
  /** Tensors the spec names (a Map, or a plain object whose own properties are read): wherever a
   *  spec takes numbers (weights, bias, a prelu slope, batch-norm vectors), a string names one of
   *  these, and its shape is checked. */
  tensors?: ReadonlyMap<string, TensorValue> | Readonly<Record<string, TensorValue>>;
  /** Seed of untrained layers' initial weights and of fit's shuffling (default: a random seed). */
  seed?: number;
}

/** A fully connected layer: y = activation(W·x + b). */
export interface DenseLayerSpec {
  type?: 'dense';
  /** Input features. Required on the first layer (or as the model's `inputs`); checked on the others. */
  inputs?: number;
  /** Output features (neurons). Required unless `weights` names a tensor (then its shape tells). */
  units?: number;
  /** Default 'linear'. A name, or `{ name, ...params }` such as `{ name: 'leakyRelu', alpha: 0.2 }`. */
  activation?: ActivationSpec;
  /** units×inputs numbers, row-major [units][inputs] (PyTorch, ONNX), or [inputs][units] with
   *  `weightsLayout: 'in-out'` (Keras, scikit-learn). Flat or nested arrays. */
  weights?: Weights | TensorName;
  /** Untrained layers (no `weights`): how to initialise them from the model's seed. Default 'he'
   *  for the ReLU family, 'glorot' otherwise; uniform unless '-normal'. Biases start at 0. */
  initializer?: InitializerSpec;
  /** units numbers; zeros when absent. */
  bias?: NumberArray | TensorName;
  /** 'out-in' (default): weights[unit][input]; 'in-out': weights[input][unit]. */
  weightsLayout?: 'out-in' | 'in-out';
  /** Shown in summary(). */
  name?: string;
}

/** An activation on its own (for example a softmax after a linear dense layer). */
export interface ActivationLayerSpec {
  type: 'activation';
  activation: ActivationSpec;
  name?: string;
}

/** Batch normalisation at inference: y = (x − mean) / √(variance + epsilon) · scale + offset per
 *  feature. Folded into the dense layer before it when that layer has no activation (in float64,
 *  then rounded to float32); otherwise applied on its own as one multiply-add per feature. */
export interface BatchNormLayerSpec {
  type: 'batchNorm';
  mean: ArrayLike<number> | TensorName;
  variance: ArrayLike<number> | TensorName;
  /** Default: ones (PyTorch's weight, Keras's gamma). */
  scale?: ArrayLike<number> | TensorName;
  /** Default: zeros (PyTorch's bias, Keras's beta). */
  offset?: ArrayLike<number> | TensorName;
  /** PyTorch's default is 1e-5, Keras's 1e-3. */
  epsilon: number;
  name?: string;
}

/** Dropout: does nothing at inference (kept so that a spec from training loads as it is). */
export interface DropoutLayerSpec {
  type: 'dropout';
  /** The training-time drop rate, 0 ≤ rate < 1 (kept in toJSON). */
  rate?: number;
  name?: string;
}

/** Flatten: does nothing to [batch, features] data. */
export interface FlattenLayerSpec {
  type: 'flatten';
  name?: string;
}

export type LayerSpec = DenseLayerSpec | ActivationLayerSpec | BatchNormLayerSpec | DropoutLayerSpec | FlattenLayerSpec;

/** What `nn.sequential` accepts: the spec with its strings widened, as a JSON import types it
 *  (`import spec from './model.json' with { type: 'json' }`). String literals written in code are
 *  still checked at compile time (see CheckedSpec); everything is checked again at run time. */
export interface ModelSpecInput {
  format?: string;
  version?: number;
  inputs?: number;
  layers: ReadonlyArray<LayerSpecInput>;
}

/** A layer as `nn.sequential` accepts it (see ModelSpecInput). */
export interface LayerSpecInput {
  type?: string;
  inputs?: number;
  units?: number;
  activation?: string | { readonly name: string };
  weights?: Weights | string;
  initializer?: InitializerSpec;
  bias?: NumberArray | string;
  weightsLayout?: string;
  name?: string;
  mean?: ArrayLike<number> | string;
  variance?: ArrayLike<number> | string;
  scale?: ArrayLike<number> | string;
  offset?: ArrayLike<number> | string;
  epsilon?: number;
  rate?: number;
}


/** A string (or number) literal checked against what is allowed; a widened `string` passes
 *  (JSON imports and dynamic values, checked at run time). */
type CheckedLiteral<T, Allowed> = [T] extends [undefined] ? T
  : string extends T ? T : number extends T ? T : [T] extends [Allowed] ? T : Allowed;

/** A layer with its literal activation, type and weightsLayout checked. */
export type CheckedLayer<L> = {
  [K in keyof L]: K extends 'activation' ? CheckedActivation<Exclude<L[K], undefined>> | Extract<L[K], undefined>
    : K extends 'type' ? CheckedLiteral<L[K], LayerType>
    : K extends 'weightsLayout' ? CheckedLiteral<L[K], 'out-in' | 'in-out'>
    : L[K];
};
type CheckedLayers<Ls> = { [I in keyof Ls]: CheckedLayer<Ls[I]> };

/**
 * A spec as written, checked at compile time: an activation name that is a typo ('relux'), a wrong
 * parameter, or an unknown layer type fails to compile; widened strings (a JSON import, a dynamic
 * name) pass and are checked at run time.
 */
export type CheckedSpec<S> = {
  [K in keyof S]: K extends 'layers' ? CheckedLayers<S[K]>
    : K extends 'format' ? CheckedLiteral<S[K], 'simdnn'>
    : K extends 'version' ? CheckedLiteral<S[K], 1>
    : S[K];
};

/** The simdnn model format, version 1: plain JSON (weights may also be Float32Arrays). */
export interface ModelSpec {
  format?: 'simdnn';
  version?: 1;
  /** Input features of the first layer (alternative to layers[0].inputs). */
  inputs?: number;
  layers: ReadonlyArray<LayerSpec>;
}

/** The layer types of a spec. */
export type LayerType = 'dense' | 'activation' | 'batchNorm' | 'dropout' | 'flatten';

/** One layer as summary() and `layers` describe it. A batchNorm folded into the dense layer before
 *  it is part of that layer and not listed. */
export interface LayerInfo {
  readonly name: string;
  readonly type: LayerType;
  readonly inputs: number;
  readonly units: number;
  readonly activation: string;
  /** The activation's parameters with their defaults filled in ({} when it has none). */
  readonly activationParams: Readonly<ActivationParams>;
  readonly params: number;
}

/** How many trainable slopes a layer's activation has: a prelu's (1, shared, or one per unit). */
function slopeCount(act: ResolvedActivation): number {
  return act.name === 'prelu' ? (act.slope?.length ?? 1) : 0;
}

function specError(where: string, message: string): SimdnnError {
  return new SimdnnError('INVALID_SPEC', `${where}: ${message}`);
}

/** Whether a number survives conversion to float32 as a finite value (1e39 is finite in float64
 *  but becomes Infinity in a Float32Array). */
const finiteF32 = (v: number) => Number.isFinite(Math.fround(v));
const F32_RANGE = 'weights must be finite numbers within the float32 range (|w| ≤ 3.4028234663852886e38)';

/** Flatten and validate numbers: exactly `expected` numbers in the given row structure, each
 *  element read once, every length checked before anything is allocated. Plain arrays are checked
 *  for finite float32 values here; typed arrays (any realm) are converted by their real elements
 *  without that check, which #build makes in one pass in wasm memory (ops.firstNonFinite).
 *  `swapped` names the other layout for the hint when nested rows fit it instead. */
function toFloats(value: unknown, expected: number, rows: number, cols: number, where: string, swapped?: string): Float32Array {
  const kind = typedArrayKind(value);
  if (kind === 'BigInt64Array' || kind === 'BigUint64Array') {
    throw new SimdnnError('INVALID_WEIGHTS', `${where} must hold numbers, received ${describe(value)} (BigInt values)`);
  }
  if (kind !== undefined) {
    const n = realLength(value);
    if (n !== expected) {
      throw new SimdnnError('INVALID_WEIGHTS', `${where} has ${n} values but ${expected} are expected (${rows}×${cols})`);
    }
    // Other typed arrays convert natively (1e39 in a Float64Array becomes Infinity, which the bulk
    // check then reports with the original value).
    return toF32Input(value, where).array;
  }
  if (!Array.isArray(value)) {
    throw new SimdnnError('INVALID_WEIGHTS', `${where} must be an array of ${expected} numbers, received ${describe(value)}`);
  }
  const arr = value as readonly unknown[];
  const len = arr.length;
  const first: unknown = len > 0 ? arr[0] : undefined;
  if (len > 0 && typeof first !== 'number') {
    // Nested rows: read every row once and check every length before allocating.
    const rowsGiven: unknown[] = [first];
    for (let r = 1; r < Math.min(len, Math.max(rows, cols) + 1); r++) rowsGiven.push(arr[r]);
    const lengths = rowsGiven.map((row) =>
      Array.isArray(row) ? (row as unknown[]).length : typedArrayKind(row) !== undefined ? realLength(row) : -1);
    if (len !== rows || lengths.some((l) => l !== cols)) {
      const fitsOther = swapped !== undefined && rows !== cols && len === cols && lengths.length === cols &&
        lengths.every((l) => l === rows);
      const hint = fitsOther ? `; this looks like [${swapped}]: pass weightsLayout: '${swapped === 'inputs][units' ? 'in-out' : 'out-in'}'` : '';
      if (len !== rows) {
        throw new SimdnnError('INVALID_WEIGHTS', `${where} has ${len} rows but ${rows} rows of ${cols} are expected${hint}`);
      }
      const r = lengths.findIndex((l) => l !== cols);
      throw new SimdnnError('INVALID_WEIGHTS', `${where}[${r}] must be ${cols} numbers, received ${describe(rowsGiven[r])}${hint}`);
    }
    const out = new Float32Array(expected);
    for (let r = 0; r < rows; r++) {
      const row = rowsGiven[r];
      const rowKind = typedArrayKind(row);
      const values = rowKind !== undefined ? toF32Input(row, `${where}[${r}]`).array : (row as readonly unknown[]);
      for (let c = 0; c < cols; c++) {
        if (rowKind === undefined && !(c in values)) {
          throw new SimdnnError('INVALID_WEIGHTS', `${where}[${r}] is a sparse array: element ${c} is a hole`);
        }
        const v = values[c];
        if (typeof v !== 'number' || !finiteF32(v)) {
          throw new SimdnnError('INVALID_WEIGHTS', `${where}[${r}][${c}] is ${describe(v)}; ${F32_RANGE}`);
        }
        out[r * cols + c] = v;
      }
    }
    return out;
  }
  if (len !== expected) {
    throw new SimdnnError('INVALID_WEIGHTS', `${where} has ${len} values but ${expected} are expected (${rows}×${cols})`);
  }
  const out = new Float32Array(expected);
  for (let i = 0; i < expected; i++) {
    if (!(i in arr)) throw new SimdnnError('INVALID_WEIGHTS', `${where} is a sparse array: element ${i} is a hole`);
    const v: unknown = arr[i];
    if (typeof v !== 'number' || !finiteF32(v)) {
      throw new SimdnnError('INVALID_WEIGHTS', `${where}[${i}] is ${describe(v)}; ${F32_RANGE}`);
    }
    out[i] = v;
  }
  return out;
}

/** @internal For tests: the arena a model lives in (its invariant check). Not a public export. */
// eslint-disable-next-line import/no-mutable-exports
export let internalArena: (model: Sequential) => Arena;

/** A layer spec read once into plain values (the first phase of building a model). */
interface LayerPlan {
  index: number;
  type: LayerType;
  name: string;
  inputs: number;
  units: number;
  act: ResolvedActivation;
  /** Dense: [units][inputs] or [inputs][units] per layout, float32, not yet checked for NaN/Inf
   *  when they came from a typed array. */
  weights?: Float32Array;
  bias?: Float32Array;
  layout?: 'out-in' | 'in-out';
  /** The spec's own weights and bias (or the tensors they name), for error messages. */
  source?: { weights: unknown; bias: unknown };
  /** batchNorm: its vectors (float32, checked finite) and epsilon. */
  norm?: NormPlan;
  /** batchNorm: folded into the dense layer before it (which now holds it). */
  folded?: boolean;
  /** dropout: the rate given. */
  rate?: number;
}

interface NormPlan {
  mean: Float32Array;
  variance: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
  epsilon: number;
}

/** A tensor looked up by name (phase 1), or undefined when the spec gave no tensors. */
type TensorLookup = (name: string, where: string) => { shape: number[]; data: unknown };

const mapHas = Map.prototype.has;
const mapGet = Map.prototype.get;
const hasOwn = Object.prototype.hasOwnProperty;

/** Whether `v` is a Map (any realm, subclasses included: the intrinsic `has` checks the slot). */
function isMap(v: unknown): v is Map<unknown, unknown> {
  try {
    mapHas.call(v, '');
    return true;
  } catch {
    return false;
  }
}

/** Read `options.tensors` once into a lookup: a Map through the intrinsic get, a plain object by
 *  its own properties only (a name such as 'constructor' or '__proto__' never reaches a prototype). */
function tensorLookup(tensors: unknown): TensorLookup | undefined {
  if (tensors === undefined) return undefined;
  const map = isMap(tensors);
  if (!map && (tensors === null || typeof tensors !== 'object')) {
    throw new SimdnnError('INVALID_ARGUMENT', `sequential: tensors must be a Map or an object of tensors, received ${describe(tensors)}`);
  }
  return (name, where) => {
    const found = map ? mapHas.call(tensors, name) : hasOwn.call(tensors, name);
    if (!found) {
      const names = map ? [...(tensors as Map<unknown, unknown>).keys()].map(String) : Object.keys(tensors as object);
      const listed = names.slice(0, 8).map((n) => JSON.stringify(n)).join(', ') + (names.length > 8 ? ', …' : '');
      throw specError(where, `names tensor ${JSON.stringify(name)}, which is not among the tensors given (${names.length ? listed : 'none'})`);
    }
    const t: unknown = map ? mapGet.call(tensors, name) : (tensors as Record<string, unknown>)[name];
    if (typedArrayKind(t) !== undefined) return { shape: [realLength(t)], data: t };
    if (Array.isArray(t)) return { shape: [(t as unknown[]).length], data: t };
    if (t === null || typeof t !== 'object') throw specError(where, `tensor ${JSON.stringify(name)} must be { shape, data } or an array of numbers, received ${describe(t)}`);
    const { shape, data } = t as { shape?: unknown; data?: unknown };
    const dims: unknown[] = Array.isArray(shape) ? Array.from(shape as unknown[]) : [];
    if (!Array.isArray(shape) || dims.length > 8 || dims.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
      throw specError(where, `tensor ${JSON.stringify(name)}: shape must be an array of at most 8 non-negative integers, received ${describe(shape)}`);
    }
    return { shape: dims as number[], data };
  };
}

/** A spec field that may hold numbers or name a tensor: the tensor (looked up, shape checked by
 *  `checkShape`) or the value itself. */
interface Named { shape?: number[]; data: unknown; name?: string }

function named(value: unknown, tensors: TensorLookup | undefined, where: string): Named {
  if (typeof value !== 'string') return { data: value };
  if (!tensors) throw specError(where, `names tensor ${JSON.stringify(value)}, but no tensors were given (nn.sequential(spec, { tensors }))`);
  return { ...tensors(value, where), name: value };
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** A vector of n numbers, or a tensor of shape [n] (or [1, …, 1, n]). */
function vectorOf(value: unknown, n: number, tensors: TensorLookup | undefined, where: string): Float32Array {
  const t = named(value, tensors, where);
  if (t.shape && (t.shape.length === 0 || t.shape[t.shape.length - 1] !== n || t.shape.slice(0, -1).some((d) => d !== 1))) {
    throw new SimdnnError('SHAPE_MISMATCH', `${where}: tensor ${JSON.stringify(t.name)} has shape ${shapeText(t.shape)}; expected [${n}]`);
  }
  return toFloats(t.data, n, 1, n, where);
}

/** The most layers a model may have (a length past this is a lie or a mistake). */
const MAX_LAYERS = 1 << 16;

/** Read a model spec once, by index, into plans: every getter and Proxy trap runs here, before
 *  any memory is taken. */
function planModel(spec: unknown, seed: () => number, tensors?: TensorLookup): { inputs: number; plans: LayerPlan[] } {
  if (spec === null || typeof spec !== 'object') throw specError('model', `spec must be an object, received ${describe(spec)}`);
  const { format, version, inputs: modelInputs, layers } = spec as Record<string, unknown>;
  if (format !== undefined && format !== 'simdnn') {
    throw specError('model', `format must be 'simdnn', received ${describe(format)}`);
  }
  if (version !== undefined && version !== 1) {
    throw specError('model', `version ${describe(version)} is not supported; this simdnn reads version 1`);
  }
  const count: unknown = Array.isArray(layers) ? (layers as unknown[]).length : undefined;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_LAYERS) {
    throw specError('model', `'layers' must be a non-empty array, received ${describe(layers)} (at most ${MAX_LAYERS} layers)`);
  }
  const list = layers as readonly unknown[];
  const specs: unknown[] = [];
  for (let i = 0; i < count; i++) specs.push(list[i]); // holes read as undefined, and are rejected below
  const raw = specs.map((layer, i) => {
    if (layer === null || typeof layer !== 'object') throw specError(`layers[${i}]`, `must be an object, received ${describe(layer)}`);
    const {
      type, name, inputs, units, activation, weights, bias, weightsLayout, initializer, mean, variance, scale, offset, epsilon, rate,
    } = layer as Record<string, unknown>;
    return { type, name, inputs, units, activation, weights, bias, weightsLayout, initializer, mean, variance, scale, offset, epsilon, rate };
  });
  const first0 = raw[0]!;
  // A first dense layer whose weights name a tensor tells the input width by its shape.
  let firstWeights: Named | undefined;
  if ((first0.type ?? 'dense') === 'dense' && typeof first0.weights === 'string' && modelInputs === undefined && first0.inputs === undefined) {
    firstWeights = named(first0.weights, tensors, 'layers[0].weights');
    const shape = firstWeights.shape!;
    if (shape.length === 2) first0.inputs = first0.weightsLayout === 'in-out' ? shape[0] : shape[1];
  }
  const first = modelInputs ?? first0.inputs;
  if (first === undefined) throw specError('layers[0]', `'inputs' is required on the first layer (or as the model's 'inputs')`);
  let width = checkSize(first, modelInputs === undefined ? 'layers[0].inputs' : 'model.inputs');
  const inputs = width;
  const plans = raw.map((layer, i) => {
    const plan = planLayer(layer, i, width, seed, tensors, i === 0 ? firstWeights : undefined);
    width = plan.units;
    return plan;
  });
  // Fold each batchNorm into a dense layer right before it that has no activation.
  plans.forEach((plan, i) => {
    const prev = plans[i - 1];
    if (plan.type === 'batchNorm' && prev?.type === 'dense' && prev.act.kind === ACTIVATION_KINDS.linear) {
      foldNorm(prev, plan.norm!);
      plan.folded = true;
    }
  });
  return { inputs, plans: plans.filter((p) => !p.folded) };
}

/** W'[u][i] = W[u][i]·s[u], b'[u] = (b[u] − mean[u])·s[u] + offset[u] with s = scale/√(variance + ε),
 *  in float64, rounded once. New arrays: the plan's may be the caller's own Float32Array. */
function foldNorm(dense: LayerPlan, norm: NormPlan): void {
  const { units, inputs } = dense;
  const w = dense.weights!;
  const b = dense.bias;
  const folded = new Float32Array(w.length);
  const bias = new Float32Array(units);
  const inOut = dense.layout === 'in-out';
  for (let u = 0; u < units; u++) {
    const s = norm.scale[u]! / Math.sqrt(norm.variance[u]! + norm.epsilon);
    for (let i = 0; i < inputs; i++) {
      const at = inOut ? i * units + u : u * inputs + i;
      folded[at] = w[at]! * s;
    }
    bias[u] = ((b ? b[u]! : 0) - norm.mean[u]!) * s + norm.offset[u]!;
  }
  dense.weights = folded;
  dense.bias = bias;
}

/** The per-feature factor and offset of a batchNorm on its own: a = scale/√(variance + ε),
 *  c = offset − mean·a, in float64, rounded once; [a…, c…]. */
function normAffine(norm: NormPlan): Float32Array {
  const n = norm.mean.length;
  const out = new Float32Array(2 * n);
  for (let k = 0; k < n; k++) {
    const a = norm.scale[k]! / Math.sqrt(norm.variance[k]! + norm.epsilon);
    out[k] = a;
    out[n + k] = norm.offset[k]! - norm.mean[k]! * a;
  }
  return out;
}

const LINEAR = resolveActivation('linear');
const LAYER_TYPES = "'dense', 'activation', 'batchNorm', 'dropout' or 'flatten'";

function planLayer(
  layer: Record<string, unknown>, i: number, width: number, seed: () => number, tensors?: TensorLookup, weightsTensor?: Named,
): LayerPlan {
  const where = `layers[${i}]`;
  if (layer.name !== undefined && typeof layer.name !== 'string') {
    throw specError(where, `name must be a string, received ${describe(layer.name)}`);
  }
  const type = layer.type ?? 'dense';
  const name = layer.name as string | undefined;
  if (type === 'activation') {
    const act = layerActivation(layer.activation, width, where, tensors);
    return { index: i, type, name: name ?? `${act.name}_${i}`, inputs: width, units: width, act };
  }
  if (type === 'dropout' || type === 'flatten') {
    const rate = layer.rate;
    if (type === 'dropout' && rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate < 1))) {
      throw specError(where, `dropout rate must be a number with 0 ≤ rate < 1, received ${describe(rate)}`);
    }
    return { index: i, type, name: name ?? `${type}_${i}`, inputs: width, units: width, act: LINEAR, rate: rate as number | undefined };
  }
  if (type === 'batchNorm') {
    const epsilon = layer.epsilon;
    if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
      throw specError(where, `batchNorm needs epsilon, a finite number ≥ 0 (PyTorch uses 1e-5, Keras 1e-3), received ${describe(epsilon)}`);
    }
    const vec = (key: 'mean' | 'variance' | 'scale' | 'offset', fill?: number) => {
      const value = layer[key];
      if (value === undefined) {
        if (fill === undefined) throw specError(where, `batchNorm needs '${key}' (${width} numbers or a tensor name)`);
        return new Float32Array(width).fill(fill);
      }
      const v = vectorOf(value, width, tensors, `${where}.${key}`);
      // Typed arrays are converted without the finite check toFloats makes on plain arrays.
      for (let k = 0; k < width; k++) {
        if (!Number.isFinite(v[k]!)) throw new SimdnnError('INVALID_WEIGHTS', `${where}.${key}[${k}] is ${describe(v[k])}; ${F32_RANGE}`);
      }
      return v;
    };
    const norm: NormPlan = { mean: vec('mean'), variance: vec('variance'), scale: vec('scale', 1), offset: vec('offset', 0), epsilon };
    for (let k = 0; k < width; k++) {
      const d = norm.variance[k]! + epsilon;
      if (!(d > 0)) {
        throw new SimdnnError('INVALID_WEIGHTS', `${where}: variance[${k}] + epsilon is ${d}; it must be positive`);
      }
      if (!finiteF32(norm.scale[k]! / Math.sqrt(d))) {
        throw new SimdnnError('INVALID_WEIGHTS', `${where}: scale[${k}]/√(variance[${k}] + epsilon) is beyond the float32 range`);
      }
    }
    return { index: i, type, name: name ?? `batchNorm_${i}`, inputs: width, units: width, act: LINEAR, norm };
  }
  if (type !== 'dense') throw specError(where, `unknown layer type ${describe(type)}; expected ${LAYER_TYPES}`);
  if (layer.inputs !== undefined && layer.inputs !== width) {
    throw new SimdnnError('SHAPE_MISMATCH', `${where}: inputs is ${describe(layer.inputs)} but the previous layer has ${width} outputs`);
  }
  const layout = layer.weightsLayout ?? 'out-in';
  if (layout !== 'out-in' && layout !== 'in-out') {
    throw specError(where, `weightsLayout must be 'out-in' or 'in-out', received ${describe(layout)}`);
  }
  let units: number;
  let act: ResolvedActivation;
  let weights: Float32Array;
  let given: unknown; // the numbers given, for error messages
  if (layer.weights === undefined && weightsTensor === undefined) {
    // An untrained layer: initial weights from the model's seed.
    units = checkSize(layer.units, `${where}.units`);
    act = layerActivation(layer.activation ?? 'linear', units, where, tensors);
    weights = untrainedWeights(layer.initializer, layout, i, width, units, act.name, seed(), where);
  } else {
    if (layer.initializer !== undefined) throw specError(where, `has both weights and an initializer; give one of them`);
    // Weights that name a tensor: [units, inputs] ('out-in') or [inputs, units] ('in-out'); units may
    // then be left out. (The first layer's may already have been looked up by planModel.)
    const w = weightsTensor ?? named(layer.weights, tensors, `${where}.weights`);
    if (w.shape !== undefined) {
      const [r, c] = w.shape;
      const [tu, ti] = layout === 'out-in' ? [r, c] : [c, r];
      if (w.shape.length !== 2 || ti !== width || (layer.units !== undefined && layer.units !== tu)) {
        throw new SimdnnError('SHAPE_MISMATCH', `${where}.weights: tensor ${JSON.stringify(w.name)} has shape ${shapeText(w.shape)} but the layer ` +
          `is ${typeof layer.units === 'number' ? layer.units : '?'} units × ${width} inputs (${layout === 'out-in' ? '[units, inputs]' : "[inputs, units] with weightsLayout 'in-out'"})`);
      }
      units = checkSize(tu, `${where}.units`);
    } else {
      units = checkSize(layer.units, `${where}.units`);
    }
    act = layerActivation(layer.activation ?? 'linear', units, where, tensors);
    weights = layout === 'out-in'
      ? toFloats(w.data, units * width, units, width, `${where}.weights`, 'inputs][units')
      : toFloats(w.data, units * width, width, units, `${where}.weights`, 'units][inputs');
    given = w.data;
  }
  const bias = layer.bias === undefined ? undefined : vectorOf(layer.bias, units, tensors, `${where}.bias`);
  return {
    index: i, type: 'dense', name: name ?? `dense_${i}`, inputs: width, units, act, weights, bias, layout,
    // For error messages: the numbers given (a tensor's name has none to show; the float32 value is).
    source: { weights: given, bias: typeof layer.bias === 'string' ? undefined : layer.bias },
  };
}

/** Initial weights of an untrained dense layer (no `weights` in its spec), from the model's seed:
 *  each layer draws from its own stream (seed, layer index), so adding a layer does not change the
 *  others' weights. In the layout the spec names, like given weights. */
function untrainedWeights(spec: unknown, layout: string, i: number, inputs: number, units: number, activation: string, seed: number, where: string): Float32Array {
  const w = initWeights(parseInitializer(spec, activation, where), inputs, units, new Rng(seed, i));
  if (layout === 'out-in') return w;
  const t = new Float32Array(w.length);
  for (let n = 0; n < units; n++) for (let k = 0; k < inputs; k++) t[k * units + n] = w[n * inputs + k]!;
  return t;
}

/** nn.sequential's options, each read once: the seed and the tensors a spec may name. */
function readOptions(options: unknown): { seed: number | undefined; tensors: TensorLookup | undefined } {
  if (options === undefined) return { seed: undefined, tensors: undefined };
  if (options === null || typeof options !== 'object') {
    throw new SimdnnError('INVALID_ARGUMENT', `nn.sequential: options must be an object, received ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'tensors' && key !== 'seed') {
      throw new SimdnnError('INVALID_ARGUMENT', `nn.sequential: unknown option '${key}'; expected seed, tensors`);
    }
  }
  const { seed, tensors } = options as { seed?: unknown; tensors?: unknown };
  return {
    seed: seed === undefined ? undefined : checkSeed(seed, 'nn.sequential: options.seed'),
    tensors: tensorLookup(tensors),
  };
}

function layerActivation(spec: unknown, units: number, where: string, tensors?: TensorLookup): ResolvedActivation {
  try {
    // A prelu slope may name a tensor: the spec is copied (its own properties, read once) with the
    // tensor's values in place of the name.
    if (tensors && spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
      const copy = { ...(spec as Record<string, unknown>) };
      for (const key of ['slope', 'weight']) {
        const v = copy[key];
        if (typeof v === 'string') {
          const t = named(v, tensors, `activation.${key}`);
          const n = t.shape!.reduce((a, d) => a * d, 1);
          if (n !== 1 && n !== units) {
            throw new SimdnnError('SHAPE_MISMATCH', `activation.${key}: tensor ${JSON.stringify(v)} has shape ${shapeText(t.shape!)}; expected 1 or ${units} values`);
          }
          copy[key] = toFloats(t.data, n, 1, n, `activation.${key}`);
        }
      }
      spec = copy;
    }
    const act = resolveActivation(spec);
    if (act.slope && act.slope.length !== 1 && act.slope.length !== units) {
      throw new SimdnnError('SHAPE_MISMATCH', `prelu slope has ${act.slope.length} values; expected 1 or ${units} (one per unit)`);
    }
    return act;
  } catch (err) {
    if (err instanceof SimdnnError) throw new SimdnnError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}

interface BuiltLayer {
  info: LayerInfo;
  act: ResolvedActivation;
  /** The descriptor's layer type, or -1 for a layer with none (dropout, flatten). */
  type: number;
  packed: number;
  /** PReLU: its slopes' block (after a dense layer's panels, or the activation layer's own). */
  slope: number;
  /** PReLU: 1 (shared) or units slopes; 0 otherwise. */
  slopes: number;
  norm?: NormPlan;
  rate?: number;
}

/** toJSON() and save(): per layer, the numbers as arrays (JSON) or named tensors (safetensors). */
type Emit = (layer: number, key: string, data: Float32Array, shape: number[]) => unknown;

/**
 * A feed-forward stack of dense and activation layers. `predict` runs the whole forward pass in a
 * single WebAssembly call. Owns its packed weights and I/O buffers: call `dispose()` when done.
 */
export class Sequential extends Resource {
  // The shape lives in private fields: the public accessors below are read-only views of it, so no
  // assignment from user code can change how large the buffers are or how many descriptors the
  // kernel walks (a writable `outputs` let predict() overrun its output buffer into other objects).
  #inputs = 0;
  #outputs = 0;
  #layers: ReadonlyArray<LayerInfo> = [];
  #parameterCount = 0;

  /** Features per input row. */
  get inputs(): number { return this.#inputs; }
  /** Features per output row. */
  get outputs(): number { return this.#outputs; }
  /** Per-layer description (frozen). */
  get layers(): ReadonlyArray<LayerInfo> { return this.#info(); }
  /** Trainable parameter count (weights, biases and prelu slopes; a batchNorm's 2 per feature). */
  get parameterCount(): number { return this.#parameterCount; }

  static {
    internalArena = (model) => model.#ctx.arena;
  }

  readonly #ctx: Ctx;
  #desc = 0;
  #widest = 0;
  #capacity = 0;
  #io = { x: 0, out: 0, a: 0, b: 0 };
  /** Descriptors model_forward_f32 walks (dropout and flatten have none). */
  #descCount = 0;
  /** For the worker pool: this model's id, and a counter bumped whenever its weights change. */
  readonly #id = nextModelId++;
  #version = 0;
  /** The weight version the pool's workers were last sent (copies mode). */
  #pooledVersion = -1;
  /** predictAsync calls in flight in shared mode (their workers read this model's weights). */
  #sharedCalls = 0;
  /** Multiply-adds of one row's forward pass (predictAsync's threshold). */
  #rowWork = 0;
  /** Per layer: the packed weights' offset (dense), the resolved activation, its prelu slope block,
   *  and a batchNorm's vectors or a dropout's rate, for toJSON() and training. */
  #built: ReadonlyArray<{ packed: number; act: ResolvedActivation; slope: number; slopes: number; descA: number; norm?: NormPlan; rate?: number }> = [];
  /** PReLU slopes changed since `layers` was built (training, setWeights): its activationParams are
   *  refreshed from memory when next read. */
  #slopesMoved = false;

  /** @internal use `nn.sequential(spec)` (which holds the runtime's call guard while this runs) */
  constructor(ctx: Ctx, registry: Registry, spec: ModelSpec | unknown, options?: SequentialOptions) {
    super(registry, 'model');
    this.#ctx = ctx;
    try {
      // Phase 1: read and convert the whole spec (caller code may run here: getters, Proxies).
      const opts = readOptions(options);
      this.#seed = opts.seed;
      const { inputs, plans } = planModel(spec, () => this.#seedValue(), opts.tensors);
      // Phase 2: memory. Nothing below reads the spec again.
      let widest = inputs;
      let params = 0;
      const built = plans.map((plan) => {
        widest = Math.max(widest, plan.units);
        const b = this.#build(plan);
        params += b.info.params;
        return b;
      });
      this.#inputs = inputs;
      this.#outputs = plans[plans.length - 1]!.units;
      this.#widest = widest;
      this.#layers = Object.freeze(built.map((b) => Object.freeze(b.info)));
      this.#parameterCount = params;
      this.#rowWork = built.reduce((w, b) => w + (b.type === ops.LAYER_TYPE.dense ? b.info.inputs * b.info.units : b.info.units), 0);
      const walked = built.filter((b) => b.type >= 0);
      // A model of only dropout/flatten layers copies its input: one linear activation.
      if (walked.length === 0) walked.push({ ...built[0]!, type: ops.LAYER_TYPE.activation, act: LINEAR, packed: 0, slope: 0, slopes: 0 });
      this.#descCount = walked.length;
      this.#desc = this.own((walked.length * ops.DESC_BYTES) / 4);
      const descAt = new Map<BuiltLayer, number>();
      walked.forEach((b, i) => {
        descAt.set(b, this.#desc + i * ops.DESC_BYTES);
        ops.writeDescriptor(ctx, this.#desc + i * ops.DESC_BYTES, {
          type: b.type, inputs: b.info.inputs, units: b.info.units, packed: b.packed, act: b.act, slope: b.slopes > 1 ? b.slope : 0,
        });
      });
      // A shared prelu slope runs as leakyRelu with the slope in the descriptor's `a`; training
      // updates the slope block and copies it there (descA).
      this.#built = built.map((b) => ({
        packed: b.packed, act: b.act, slope: b.slope, slopes: b.slopes, norm: b.norm, rate: b.rate,
        descA: b.slopes === 1 ? descAt.get(b)! + 4 * ops.DESC.a : 0,
      }));
      // Warm-up: run each kernel once so the first user call does not pay for lazy compilation.
      const zeros = new Float32Array(this.#inputs);
      this.#run(zeros, new Float32Array(this.#outputs), 1);
    } catch (err) {
      this.free();
      throw err;
    }
    bindModelMethods(this);
  }

  #build(plan: LayerPlan): BuiltLayer {
    const { act, units, inputs: width } = plan;
    const slopes = plan.type === 'dense' || plan.type === 'activation' ? slopeCount(act) : 0;
    const info = {
      name: plan.name, type: plan.type, inputs: width, units, activation: act.name,
      activationParams: Object.freeze({ ...act.params }),
      params: (plan.type === 'dense' ? units * width + units : plan.type === 'batchNorm' ? 2 * units : 0) + slopes,
    };
    if (plan.type === 'activation') {
      const slope = slopes ? this.#slopeBlock(act, this.own(paramLayout('activation', 0, width, slopes).slab)) : 0;
      return { info, act, type: ops.LAYER_TYPE.activation, packed: 0, slope, slopes };
    }
    if (plan.type === 'dropout' || plan.type === 'flatten') return { info, act, type: -1, packed: 0, slope: 0, slopes: 0, rate: plan.rate };
    if (plan.type === 'batchNorm') {
      const norm = plan.norm!;
      const params = this.own(2 * units);
      ops.upload(this.#ctx, params, normAffine(norm));
      // Copies: the plan's vectors may be the caller's own Float32Arrays.
      const kept: NormPlan = {
        mean: norm.mean.slice(), variance: norm.variance.slice(), scale: norm.scale.slice(), offset: norm.offset.slice(), epsilon: norm.epsilon,
      };
      return { info, act, type: ops.LAYER_TYPE.affine, packed: params, slope: 0, slopes: 0, norm: kept };
    }
    const weights = plan.weights!;
    const bias = plan.bias;
    // Upload raw weights, pack them into panels, then free the raw copy. A prelu layer's slopes
    // follow the panels in the same block: one optimizer call covers weights, bias and slopes.
    const layout = paramLayout('dense', width, units, slopes);
    const packed = this.own(layout.slab);
    const arena = this.#ctx.arena;
    const raw = arena.allocF32(weights.length + units);
    try {
      ops.upload(this.#ctx, raw, weights);
      if (bias) ops.upload(this.#ctx, raw + weights.length * 4, bias);
      // One SIMD pass over weights and bias (a JS loop over a fresh model's weights runs in the
      // interpreter: about 0.2 µs per value the first time).
      const bad = ops.firstNonFinite(this.#ctx, raw, weights.length + (bias ? units : 0));
      if (bad >= 0) {
        const [name, source, at] = bad < weights.length
          ? ['weights', plan.source!.weights, bad] : ['bias', plan.source!.bias, bad - weights.length];
        const original = elementAt(source, at);
        const shown = typeof original === 'number' ? original : (bad < weights.length ? weights : bias!)[at];
        throw new SimdnnError('INVALID_WEIGHTS', `layers[${plan.index}].${name}[${at}] is ${describe(shown)}; ${F32_RANGE}`);
      }
      ops.packWeights(this.#ctx, packed, raw, bias ? raw + weights.length * 4 : 0, width, units, plan.layout!);
    } finally {
      arena.release(raw);
    }
    const slope = slopes ? this.#slopeBlock(act, packed + 4 * layout.slopeAt) : 0;
    return { info, act, type: ops.LAYER_TYPE.dense, packed, slope, slopes };
  }

  /** Write a prelu's slopes at ptr (and zero the slab's padding after them); returns ptr. */
  #slopeBlock(act: ResolvedActivation, ptr: number): number {
    const values = act.slope ?? Float32Array.of(act.a); // one shared slope resolves to leakyRelu's a
    ops.zero(this.#ctx, ptr, Math.ceil(values.length / 4) * 4);
    ops.upload(this.#ctx, ptr, values);
    return ptr;
  }

  /** `layers`, with prelu layers' activationParams.slope read back from memory after training. */
  #info(): ReadonlyArray<LayerInfo> {
    if (this.#slopesMoved && !this.disposed) {
      this.#slopesMoved = false;
      this.#layers = Object.freeze(this.#layers.map((l, i) => {
        const b = this.#built[i]!;
        if (!b.slopes) return l;
        const slope = Array.from(ops.download(this.#ctx, b.slope, b.slopes));
        return Object.freeze({ ...l, activationParams: Object.freeze({ ...l.activationParams, slope }) });
      }));
    }
    return this.#layers;
  }
  /** The I/O block for `rows` rows from `ptr` (see ioBlock). */
  #ioBlock(ptr: number, rows: number) {
    return ioBlock(ptr, rows, this.#inputs, this.#outputs, this.#widest);
  }

  /** Grow the I/O block to hold `batch` rows (it only grows; freed by dispose). */
  #reserve(batch: number): void {
    if (batch <= this.#capacity) return;
    // The block holds nothing between calls: free it first so the new one can reuse its space,
    // then prefer amortised doubling but take exactly `batch` rows when only that fits. If even
    // that throws OUT_OF_MEMORY, the model is left with capacity 0 and stays usable: the next
    // call reserves again.
    const caps = [Math.max(batch, this.#capacity * 2), batch];
    if (this.#capacity > 0) {
      this.disown(this.#io.x);
      this.#capacity = 0;
    }
    const { ptr, index } = this.ownFirst(caps.map((cap) => this.#ioBlock(0, cap).floats));
    const cap = caps[index]!;
    const { x, out, a, b } = this.#ioBlock(ptr, cap);
    this.#io = { x, out, a, b };
    this.#capacity = cap;
  }

  /**
   * Run the model on `batch` rows of `inputs` features (row-major) and return `batch` rows of
   * `outputs` features in a new Float32Array. `x` may be a Float32Array (used as it is), another
   * numeric typed array or a plain array of numbers (converted to float32).
   */
  predict(x: NumberArray, batch = 1): Float32Array {
    this.enter('predict');
    try {
      // Validate everything before allocating the result: batch × outputs floats may be gigabytes.
      const b = checkBatch(batch);
      const input = this.#input(x, b, 'model.predict');
      return this.#run(input, this.#result(b, 'model.predict'), b);
    } finally {
      this.leave();
    }
  }

  /** The input as float32 values, exactly batch × inputs of them, or a SimdnnError. */
  #input(x: unknown, batch: number, what: string): Float32Array {
    const { array, length } = toF32Input(x, `${what}: x`);
    const expected = batch * this.#inputs;
    if (length !== expected) {
      const rows = length / this.#inputs;
      const hint = length > 0 && Number.isInteger(rows) && rows !== batch ? `; did you mean batch = ${rows}?` : '';
      throw new SimdnnError(
        'SHAPE_MISMATCH',
        `${what}: input has ${length} values but the model expects batch × inputs = ${batch} × ${this.#inputs} = ${expected}${hint}`,
      );
    }
    return array;
  }

  /** Like predict, but writes into `out` (batch × outputs floats) and returns it: no allocation. */
  predictInto(x: NumberArray, out: Float32Array, batch = 1): Float32Array {
    this.enter('predictInto');
    try {
      const b = checkBatch(batch);
      const input = this.#input(x, b, 'model.predictInto');
      return this.#run(input, this.#checkOut(out, b, 'model.predictInto'), b);
    } finally {
      this.leave();
    }
  }

  /**
   * predict() off the calling thread: the same result, bit for bit, with the rows split across the
   * runtime's worker pool (`init({ threads })`) when the batch is large enough to gain; smaller
   * calls run here. Writes into `out` when given (batch × outputs floats). The rows are copied when
   * the call is made, so `x` may be reused as soon as this returns its promise.
   */
  async predictAsync(x: NumberArray, batch = 1, out?: Float32Array): Promise<Float32Array> {
    const what = 'model.predictAsync';
    const par = this.#ctx.parallel;
    let b: number;
    let given: Float32Array | undefined;
    let rows: number[] = [];
    /** Copies mode: each worker's rows, and the weights as they are now (taken when they changed
     *  since the pool last got them, so a step of training after this call does not reach it). */
    let parts: Float32Array[] | undefined;
    const version = this.#version;
    let image: ModelImage | undefined;
    /** Shared mode: one block for the rows, the results and each worker's scratch, and the slices. */
    let block = 0;
    let jobs: Exec[] | undefined;
    let taken = false;
    let columns: { input: Float32Array; out: Float32Array; threads: number; wide: number[] } | undefined;
    this.enter('predictAsync');
    try {
      b = checkBatch(batch);
      const input = this.#input(x, b, what);
      given = out === undefined ? undefined : this.#checkOut(out, b, what);
      const threads = par ? Math.min(par.threads(), b) : 1;
      // While fit runs, its steps change the weights between batches: in shared mode the workers
      // would read them half-updated, so such a call runs here (as predict does).
      // One row in shared memory: a layer too wide for one core's memory bandwidth has its units
      // split between the threads instead (#columns); nothing to split runs here.
      const wide = b === 1 && par?.shared && !this.#fitting && par.threads() >= 2 ? this.#wideLayers(par.threads()) : [];
      if (wide.length) columns = { input, out: given ?? this.#result(1, what), threads: par!.threads(), wide };
      const inline = threads < 2 || b * this.#rowWork < PARALLEL_FROM || (par!.shared && this.#fitting);
      if (columns) { /* below, after leave() */ } else if (inline) return this.#run(input, given ?? this.#result(b, what), b);
      else {
      // Contiguous slices of rows, the first ones one row longer.
      rows = Array.from({ length: threads }, (_, i) => Math.floor(b / threads) + (i < b % threads ? 1 : 0));
      const [inputs, outputs, widest] = [this.#inputs, this.#outputs, this.#widest];
      if (par!.shared) {
        const scratch = rows.map((r) => region(r * widest));
        const floats = region(b * inputs) + region(b * outputs) + 2 * scratch.reduce((a, c) => a + c, 0);
        // The model's own block when no other call of it is using it; a concurrent call takes a
        // block of its own.
        const ptr = this.#take(this.#asyncBlock, floats);
        taken = ptr !== undefined;
        block = ptr ?? this.#ctx.arena.allocF32(floats);
        ops.upload(this.#ctx, block, input); // the rows are copied now: the caller may reuse x at once
        const outPtr = block + region(b * inputs) * 4;
        let buf = outPtr + region(b * outputs) * 4;
        let at = 0;
        jobs = rows.map((r, i) => {
          const job = { desc: this.#desc, layers: this.#descCount, x: block + at * inputs * 4, out: outPtr + at * outputs * 4, batch: r, a: buf, b: buf + scratch[i]! * 4 };
          buf += 2 * scratch[i]! * 4;
          at += r;
          return job;
        });
        this.#sharedCalls++;
      } else {
        if (this.#pooledVersion !== version) image = this.#image();
        let at = 0;
        parts = rows.map((r) => {
          const part = input.slice(at * inputs, (at + r) * inputs); // copies: the caller may reuse x
          at += r;
          return part;
        });
      }
      }
    } finally {
      this.leave();
    }
    if (columns) return this.#columns(columns.input, columns.out, columns.threads, columns.wide);
    try {
      let outs: Float32Array[] | undefined;
      try {
        if (jobs) await this.#pooled(par!.exec(jobs));
        else {
          outs = await par!.run({
            id: this.#id, version, image: () => {
              // A worker that needs the weights later (a new one): they must still be this version.
              if (!image && this.#version !== version) {
                throw new SimdnnError('REENTRANT_CALL', 'model.predictAsync: the weights changed while this call waited for a worker of the pool; call it again');
              }
              return (image ??= this.#image());
            },
          }, parts!, rows);
          this.#pooledVersion = version;
        }
      } catch (err) {
        // Workers could not start here (none ever did): compute on this thread instead, from the
        // rows still in hand (a slice sent to a worker that then died is gone: that rethrows).
        if (par!.threads() >= 2 || (parts && parts.some((p, i) => p.length !== rows[i]! * this.#inputs))) throw err;
        this.enter('predictAsync');
        try {
          const whole = block ? ops.download(this.#ctx, block, b * this.#inputs) : new Float32Array(b * this.#inputs);
          if (parts) {
            let at = 0;
            for (const p of parts) { typedArraySet(whole, p, at); at += p.length; }
          }
          return this.#run(whole, given ?? this.#result(b, what), b);
        } finally {
          this.leave();
        }
      }
      this.alive('predictAsync');
      const result = given ?? this.#result(b, what);
      if (jobs) return ops.download(this.#ctx, jobs[0]!.out, b * this.#outputs, result);
      let at = 0;
      for (const o of outs!) { typedArraySet(result, o, at); at += o.length; }
      return result;
    } finally {
      // Every slice has settled (exec waits for all of them), so nothing writes into the block now.
      if (jobs) this.#sharedCalls--;
      if (taken) this.#asyncBlock.busy = false;
      else if (block && !this.#ctx.guard.closed) this.#ctx.arena.release(block);
    }
  }

  /** The dense layers (descriptor indices) whose units predictAsync splits between `threads`
   *  threads for one row: at least 2^23 weights (past what one core streams from memory at full
   *  speed: bench/column-split.mjs) and an elementwise activation (softmax needs the
   *  whole row), with at least one panel of 8 units per thread. */
  #wideLayers(threads: number): number[] {
    const d = new Int32Array(this.#ctx.arena.memory.buffer, this.#desc, this.#descCount * 8);
    const wide: number[] = [];
    for (let i = 0; i < this.#descCount; i++) {
      const [type, K, N, kind] = [d[8 * i + ops.DESC.type]!, d[8 * i + ops.DESC.inputs]!, d[8 * i + ops.DESC.units]!, d[8 * i + ops.DESC.kind]!];
      if (type === ops.LAYER_TYPE.dense && K * N >= COLUMNS_FROM && Math.ceil(N / 8) >= threads &&
        kind !== ACTIVATION_KINDS.softmax && kind !== ACTIVATION_KINDS.logSoftmax) wide.push(i);
    }
    return wide;
  }

  /** #columns' block: the row, the result, two ping-pong regions, model_forward_f32's own scratch,
   *  and a copy of each split layer's descriptor per thread (its range of units). */
  readonly #columnBlock: Kept = { ptr: 0, floats: 0, busy: false };

  /** Take `kept` for a call that needs `floats` floats, growing it (so calls of one size allocate
   *  nothing after the first), or undefined while another call holds it. */
  #take(kept: Kept, floats: number): number | undefined {
    if (kept.busy) return undefined;
    if (kept.floats < floats) {
      if (kept.ptr) this.disown(kept.ptr);
      kept.ptr = 0;
      kept.floats = 0;
      kept.ptr = this.own(floats);
      kept.floats = floats;
    }
    kept.busy = true;
    return kept.ptr;
  }

  /**
   * predictAsync of one row with wide layers split by units (shared memory): the layers between
   * them run here in one kernel call each run of them; a wide layer's units are cut into `threads`
   * ranges of whole panels, range 0 computed here and the others by workers, from descriptors that
   * name each range's panels, slopes and output. Each unit is the same kernel's sum as predict's:
   * the result is bit-identical.
   */
  async #columns(input: Float32Array, out: Float32Array, threads: number, wide: readonly number[]): Promise<Float32Array> {
    const par = this.#ctx.parallel!;
    const count = this.#descCount;
    let io: { x: number; out: number; p: number; q: number; s1: number; s2: number; desc: number };
    /** Per wide layer, the first unit of each thread's range. */
    const starts: number[][] = [];
    this.enter('predictAsync');
    try {
      const w = region(this.#widest);
      const floats = region(this.#inputs) + region(this.#outputs) + 4 * w + (threads * wide.length * ops.DESC_BYTES) / 4;
      const x = this.#take(this.#columnBlock, floats);
      if (x === undefined) return this.#run(input, out, 1); // another such call of this model is running
      const o = x + 4 * region(this.#inputs);
      const p = o + 4 * region(this.#outputs);
      io = { x, out: o, p, q: p + 4 * w, s1: p + 8 * w, s2: p + 12 * w, desc: p + 16 * w };
      ops.upload(this.#ctx, io.x, input);
      // Each range's descriptor: the layer's, with its units, panels and (per-unit PReLU) slopes.
      const heap = this.#ctx.arena.memory.buffer;
      wide.forEach((layer, j) => {
        const src = new Int32Array(heap, this.#desc + layer * ops.DESC_BYTES, 8);
        starts.push([]);
        for (let t = 0; t < threads; t++) {
          const { u0, units } = ops.unitRange(src[ops.DESC.units]!, t, threads);
          starts[j]!.push(u0);
          const d = new Int32Array(heap, io.desc + (j * threads + t) * ops.DESC_BYTES, 8);
          d.set(src);
          d[ops.DESC.units] = units;
          d[ops.DESC.packed] = src[ops.DESC.packed]! + (u0 / 8) * ops.packedBytes(src[ops.DESC.inputs]!, 8);
          if (src[ops.DESC.kind] === ACTIVATION_KINDS.prelu && src[ops.DESC.slope]) d[ops.DESC.slope] = src[ops.DESC.slope]! + 4 * u0;
        }
      });
      this.#sharedCalls++;
    } finally {
      this.leave();
    }
    try {
      let src = io.x;
      let flip = 0;
      let from = 0;
      const next = (end: number) => (end === count ? io.out : flip++ % 2 ? io.q : io.p);
      for (let j = 0; j <= wide.length; j++) {
        const upto = j < wide.length ? wide[j]! : count;
        if (upto > from) { // the layers before the next wide one, here, in one call
          const dst = next(upto);
          this.enter('predictAsync');
          try {
            ops.modelForward(this.#ctx, dst, src, 1, this.#desc + from * ops.DESC_BYTES, upto - from, io.s1, io.s2);
          } finally {
            this.leave();
          }
          src = dst;
        }
        if (j === wide.length) break;
        const dst = next(upto + 1);
        const jobs: Exec[] = [];
        for (let t = 1; t < threads; t++) {
          jobs.push({ desc: io.desc + (j * threads + t) * ops.DESC_BYTES, layers: 1, x: src, out: dst + 4 * starts[j]![t]!, batch: 1, a: 0, b: 0 });
        }
        const work = this.#pooled(par.exec(jobs));
        try {
          this.enter('predictAsync');
          try {
            ops.modelForward(this.#ctx, dst, src, 1, io.desc + j * threads * ops.DESC_BYTES, 1, 0, 0);
          } finally {
            this.leave();
          }
        } finally {
          await work.catch(() => {}); // every range has settled before the buffers are reused
        }
        await work;
        src = dst;
        from = upto + 1;
      }
      this.alive('predictAsync');
      return ops.download(this.#ctx, io.out, this.#outputs, out);
    } catch (err) {
      // Workers could not start here (none ever did): compute on this thread instead.
      if (par.threads() >= 2 || this.disposed) throw err;
      this.enter('predictAsync');
      try {
        return this.#run(input, out, 1);
      } finally {
        this.leave();
      }
    } finally {
      this.#sharedCalls--;
      this.#columnBlock.busy = false;
    }
  }

  #result(batch: number, what: string): Float32Array {
    return allocResult(this.#ctx, batch * this.#outputs, () => `${what}: the result, batch × outputs = ${batch} × ${this.#outputs} floats`);
  }

  #checkOut(out: unknown, batch: number, what: string): Float32Array {
    const expected = batch * this.#outputs;
    const o = isF32(out) ? checkF32(out, `${what}: out`) : undefined; // throws if detached
    if (o === undefined || o.length !== expected) {
      throw new SimdnnError(
        'SHAPE_MISMATCH',
        `${what}: out must be a Float32Array of batch × outputs = ${expected} values, received ${describe(out)}`,
      );
    }
    return o.array;
  }

  /** What a worker needs to run this model: its descriptors and the blocks they point at, as bytes. */
  #image(): ModelImage {
    this.alive('predictAsync');
    const buffer = this.#ctx.arena.memory.buffer;
    const layers = [];
    for (let i = 0; i < this.#descCount; i++) {
      const at = this.#desc + i * ops.DESC_BYTES;
      const d = new Int32Array(buffer, at, ops.DESC_BYTES / 4);
      const units = d[ops.DESC.units]!;
      const packedBytes = d[ops.DESC.type] === ops.LAYER_TYPE.dense ? ops.packedBytes(d[ops.DESC.inputs]!, units)
        : d[ops.DESC.type] === ops.LAYER_TYPE.affine ? 2 * units * 4 : 0;
      const copy = (ptr: number, n: number) => (ptr !== 0 && n > 0 ? new Uint8Array(buffer, ptr, n).slice() : null);
      layers.push({
        desc: new Uint8Array(buffer, at, ops.DESC_BYTES).slice(),
        packed: copy(d[ops.DESC.packed]!, packedBytes),
        slope: copy(d[ops.DESC.slope]!, units * 4),
      });
    }
    return { inputs: this.#inputs, outputs: this.#outputs, widest: this.#widest, layers };
  }

  /** Disposal also drops the pool's copies of this model. */
  protected override free(): void {
    const live = !this.disposed;
    super.free();
    if (live) this.#ctx.parallel?.drop(this.#id);
  }

  /** The forward pass on converted, checked arguments: no caller code runs from here on. */
  #run(input: Float32Array, out: Float32Array, batch: number): Float32Array {
    if (batch === 0) return out;
    this.#reserve(batch);
    const io = this.#io;
    ops.upload(this.#ctx, io.x, input);
    ops.modelForward(this.#ctx, io.out, io.x, batch, this.#desc, this.#descCount, io.a, io.b);
    return ops.download(this.#ctx, io.out, batch * this.#outputs, out);
  }

  /** A readable table of the layers, their shapes, activations (with parameters) and parameter counts. */
  summary(): string {
    const rows = [['layer', 'type', 'output shape', 'activation', 'params']];
    for (const l of this.#info()) {
      rows.push([printable(l.name), l.type, `[batch, ${l.units}]`, activationLabel(l.activation, l.activationParams), String(l.params)]);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
    const rule = '-'.repeat(line(rows[0]!).length);
    return [
      `Sequential: ${this.#inputs} inputs → ${this.#outputs} outputs${this.disposed ? ' (disposed)' : ''}`,
      rule, line(rows[0]!), rule, ...rows.slice(1).map(line), rule,
      `total params: ${this.#parameterCount}`,
    ].join('\n');
  }

  override toString(): string {
    return this.summary();
  }

  /**
   * The model as a simdnn JSON spec (format 'simdnn', version 1) with its weights as arrays of
   * numbers (row-major [units][inputs], read back from the packed weights: bit-identical), which
   * `nn.sequential` accepts again. `JSON.stringify(model)` gives the same.
   */
  toJSON(): ModelSpec {
    this.alive('toJSON');
    return this.#spec((_, __, data) => Array.from(data));
  }

  /**
   * The model as a safetensors file: the spec without numbers as JSON in the header's
   * `__metadata__.simdnn`, and every array it names as an F32 tensor (`layers.0.weight`
   * [units, inputs], `layers.0.bias`, `layers.2.mean`, …; the indices are those of toJSON().layers).
   * `nn.load(bytes)` restores it bit-identically; other tools read the tensors as a state dict.
   */
  save(): Uint8Array<ArrayBuffer> {
    this.alive('save');
    // The header: the spec under __metadata__, then each tensor's dtype, shape and byte range.
    const header: Record<string, unknown> = {};
    const data: Float32Array[] = [];
    let end = 0;
    const spec = this.#spec((i, key, values, shape) => {
      const name = `layers.${i}.${key}`;
      header[name] = { dtype: 'F32', shape, data_offsets: [end, (end += values.length * 4)] };
      data.push(values);
      return name;
    });
    const json = new TextEncoder().encode(JSON.stringify({ __metadata__: { simdnn: JSON.stringify(spec) }, ...header }));
    // Length, JSON padded with spaces to a multiple of 8 bytes, then the tensors (little-endian, as
    // the wasm heap they came from).
    const n = (json.length + 7) & ~7;
    const out = new Uint8Array(8 + n + end);
    new DataView(out.buffer).setUint32(0, n, true);
    out.set(json, 8);
    out.fill(32, 8 + json.length, 8 + n);
    let at = 8 + n;
    for (const d of data) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
      at += d.byteLength;
    }
    return out;
  }

  /** The spec with each array of numbers given by `emit` (arrays for JSON, names for save()). */
  #spec(emit: Emit): ModelSpec {
    const layers = this.#layers.map((l, i): LayerSpec => {
      const b = this.#built[i]!;
      const name = l.name;
      switch (l.type) {
        case 'dropout': return b.rate === undefined ? { type: 'dropout', name } : { type: 'dropout', name, rate: b.rate };
        case 'flatten': return { type: 'flatten', name };
        case 'batchNorm': {
          const n = b.norm!;
          const v = (key: string, data: Float32Array) => emit(i, key, data, [l.units]) as ArrayLike<number>;
          return {
            type: 'batchNorm', name, mean: v('mean', n.mean), variance: v('variance', n.variance),
            scale: v('scale', n.scale), offset: v('offset', n.offset), epsilon: n.epsilon,
          };
        }
        default: break;
      }
      let activation = activationSpecOf(b.act);
      if (b.slopes && typeof activation === 'object') {
        // The slopes as trained (memory), not as built; one shared slope stays inline in the spec.
        const slope = ops.download(this.#ctx, b.slope, b.slopes);
        activation = { ...activation, slope: b.slopes === 1 ? [slope[0]!] : emit(i, 'slope', slope, [b.slopes]) } as ActivationSpec;
      }
      if (l.type === 'activation') return { type: 'activation', name, activation };
      const { weights, bias } = ops.unpackWeights(this.#ctx, b.packed, l.inputs, l.units);
      return {
        type: 'dense', name, inputs: l.inputs, units: l.units, activation,
        weights: emit(i, 'weight', weights, [l.units, l.inputs]) as Weights, bias: emit(i, 'bias', bias, [l.units]) as NumberArray,
      };
    });
    return { format: 'simdnn', version: 1, inputs: this.#inputs, layers };
  }

  /** What `console.log(model)` shows in Node: the layers, never the memory behind them. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const layers = this.#info().map((l) =>
      `${printable(l.name)}: ${l.type} ${l.inputs}→${l.units} ${activationLabel(l.activation, l.activationParams)}`);
    return `Sequential { inputs: ${this.#inputs}, outputs: ${this.#outputs}, parameterCount: ${this.#parameterCount}, ` +
      `layers: [${layers.map((t) => JSON.stringify(t)).join(', ')}]${this.disposed ? ', disposed: true' : ''} }`;
  }

  // ---------------------------------------------------------------------------------------------
  // Training (src/train/): the packed weights above are trained in place, so predict() always uses
  // the trained weights. Buffers and optimizer state are blocks this model owns (see trainer.ts).

  /** Drawn only when first needed (untrained layers, fit, `seed`): the first crypto.getRandomValues
   *  in a Node process costs milliseconds, which every model built from given weights would pay. */
  #seed: number | undefined;

  #seedValue(): number {
    return (this.#seed ??= freshSeed());
  }
  #fits = 0;
  /** trainStep calls that drew dropout masks (their step numbers). */
  #trainSteps = 0;
  #trainer: Trainer | undefined;
  #fitting = false;
  #order: Uint32Array = new Uint32Array(0);

  /** The seed of this model's initial weights (nn.sequential's `seed`, or the random one chosen). */
  get seed(): number { return this.#seedValue(); }

  #getTrainer(): Trainer {
    if (!this.#trainer) {
      const layers: TrainLayer[] = [];
      this.#layers.forEach((l, i) => {
        // Flatten is the identity here; dropout drops while training (inverted dropout, masks
        // seeded from the model's seed) and copies in evaluate and gradients. A standalone
        // batchNorm would need batch statistics, which the trainer does not compute.
        if (l.type === 'flatten') return;
        if (l.type !== 'dense' && l.type !== 'activation' && l.type !== 'dropout') {
          throw new SimdnnError(
            'UNSUPPORTED_MODEL',
            `model: layer ${i} (${printable(l.name)}) is a ${l.type} layer; training supports dense, activation, dropout and ` +
              `flatten layers (a batchNorm right after a dense layer is folded into it and trains as part of it)`,
          );
        }
        const b = this.#built[i]!;
        layers.push({
          type: l.type, index: i, name: l.name, K: l.inputs, N: l.units,
          packed: b.packed, act: b.act, slope: b.slope, slopes: b.slopes, descA: b.descA, rate: b.rate ?? 0,
        });
      });
      this.#trainer = new Trainer(this.#ctx, { own: (f) => this.own(f), disown: (p) => this.disown(p) }, layers, this.#inputs, this.#outputs);
    }
    return this.#trainer;
  }

  #notFitting(op: string): void {
    if (this.#sharedCalls > 0 && op !== 'gradients') {
      throw new SimdnnError(
        'REENTRANT_CALL',
        `model.${op}: predictAsync calls of this model are running in the worker pool, reading its weights in shared memory; await them first`,
      );
    }
    if (this.#fitting) {
      throw new SimdnnError('REENTRANT_CALL', `model.${op}: this model is training (fit() is running); wait for it or cancel it (signal, or onBatchEnd returning false)`);
    }
  }

  /** 0 … n−1 without allocating per call. */
  #identity(n: number): Uint32Array {
    if (this.#order.length < n) this.#order = identity(n);
    return this.#order;
  }

  /**
   * One optimizer step on `batch` rows: forward, loss, backward, update; returns the batch's mean
   * loss (before the update). Optimizer state persists across calls (and fit calls) while the
   * optimizer and its state layout stay the same; hyperparameters such as the learning rate may
   * change between calls. Defaults: loss 'mse', optimizer 'adam'.
   */
  trainStep(x: NumberArray, y: Targets | NumberArray, batch: number, options?: TrainOptions): number {
    this.enter('trainStep');
    try {
      this.#notFitting('trainStep');
      const o = readTrainOptions(options, 'model.trainStep');
      const b = checkPositiveInt(batch, 1, 'model.trainStep: batch', 1 << 24);
      const input = this.#input(x, b, 'model.trainStep');
      const t = prepareTargets(y, b, this.#outputs, o.loss, 'model.trainStep');
      const tr = this.#getTrainer();
      const head = tr.head(o.loss, t.kind === 'labels', 'model.trainStep');
      tr.reserve(b);
      tr.load(input, t, this.#identity(b), 0, b);
      this.#slopesMoved ||= this.#built.some((l) => l.slopes);
      // Dropout masks: a stream of the model's seed, one step per trainStep call (fit has its own).
      const masks = tr.dropout ? { base: this.#seedValue() ^ TRAIN_STEP_STREAM, step: this.#trainSteps++ } : undefined;
      this.#version++; // the pool's copies are stale from here on
      return tr.step(head, b, o.optimizer, o.clipNorm, masks);
    } finally {
      this.leave();
    }
  }

  /**
   * Mean gradients of the loss over `batch` rows, one entry per layer with parameters (getWeights'
   * form): a dense layer's weights (row-major [units][inputs]) and bias, plus `slope` when its
   * activation is prelu; a prelu activation layer's `slope` (with empty weights and bias). Nothing
   * is updated.
   */
  gradients(x: NumberArray, y: Targets | NumberArray, batch: number, options?: { loss?: LossName }): {
    loss: number; layers: LayerWeights[];
  } {
    this.enter('gradients');
    try {
      this.#notFitting('gradients');
      const loss = parseLoss((options as { loss?: unknown } | undefined)?.loss ?? 'mse', 'model.gradients: loss');
      const b = checkPositiveInt(batch, 1, 'model.gradients: batch', 1 << 24);
      const input = this.#input(x, b, 'model.gradients');
      const t = prepareTargets(y, b, this.#outputs, loss, 'model.gradients');
      const tr = this.#getTrainer();
      const head = tr.head(loss, t.kind === 'labels', 'model.gradients');
      tr.reserve(b);
      tr.load(input, t, this.#identity(b), 0, b);
      return tr.gradients(head, b);
    } finally {
      this.leave();
    }
  }

  /** The mean loss (and accuracy, for the cross-entropy losses) over every row of x. */
  evaluate(x: NumberArray, y: Targets | NumberArray, options?: { loss?: LossName; batchSize?: number }): { loss: number; accuracy?: number } {
    this.enter('evaluate');
    try {
      const o = (options ?? {}) as { loss?: unknown; batchSize?: unknown };
      const loss = parseLoss(o.loss ?? 'mse', 'model.evaluate: loss');
      const batchSize = checkPositiveInt(o.batchSize, 32, 'model.evaluate: batchSize', 1 << 24);
      const { x: input, n } = prepareInputs(x, this.#inputs, 'model.evaluate');
      const t = prepareTargets(y, n, this.#outputs, loss, 'model.evaluate');
      return this.#evaluateRows(input, t, n, loss, batchSize, 'model.evaluate');
    } finally {
      this.leave();
    }
  }

  #evaluateRows(x: Float32Array, t: ReturnType<typeof prepareTargets>, n: number, loss: LossName, batchSize: number, what: string): { loss: number; accuracy?: number } {
    const tr = this.#getTrainer();
    const head = tr.head(loss, t.kind === 'labels', what);
    const classify = loss === 'crossEntropy' || loss === 'binaryCrossEntropy';
    if (n === 0) return classify ? { loss: NaN, accuracy: NaN } : { loss: NaN };
    tr.reserve(Math.min(batchSize, n));
    const cap = tr.capacity;
    const idx = this.#identity(n);
    let sum = 0;
    let correct = 0;
    for (let from = 0; from < n; from += cap) {
      const B = Math.min(cap, n - from);
      tr.load(x, t, idx, from, B);
      sum += tr.evaluate(head, B) * B;
      if (classify) correct += countCorrect(tr.outputView(head, B), t, idx, from, B, this.#outputs, loss === 'binaryCrossEntropy', 0);
    }
    return classify ? { loss: sum / n, accuracy: correct / n } : { loss: sum / n };
  }

  /**
   * Train on n rows of x (n × inputs) against y (n × outputs floats, or n class indices as an
   * Int32Array, Uint8Array or Uint16Array) for `epochs` passes in batches of `batchSize`, yielding
   * to the event loop between batches (no task runs much over 10 ms plus one step). Resolves with
   * the per-epoch history. Stops early, resolving with the history so far, when onBatchEnd or
   * onEpochEnd returns false; rejects with `signal.reason` when the signal aborts, and with DISPOSED
   * when the model is disposed meanwhile. Defaults: epochs 1, batchSize 32, loss 'mse', optimizer
   * 'adam', shuffle true (seeded: by default from the model's seed and how many fits it has run).
   */
  async fit(x: NumberArray, y: Targets | NumberArray, options?: FitOptions): Promise<History> {
    this.enter('fit');
    let run: FitRun;
    try {
      this.#notFitting('fit');
      run = readFitOptions(options, this.#seedValue(), this.#fits);
      const { x: input, n } = prepareInputs(x, this.#inputs, 'model.fit');
      const t = prepareTargets(y, n, this.#outputs, run.loss, 'model.fit');
      let val: FitRun['val'];
      if (run.validationData) {
        const [vx, vy] = run.validationData;
        const v = prepareInputs(vx, this.#inputs, 'model.fit: validationData');
        val = { x: v.x, n: v.n, t: prepareTargets(vy, v.n, this.#outputs, run.loss, 'model.fit: validationData') };
      }
      const tr = this.#getTrainer();
      const head = tr.head(run.loss, t.kind === 'labels', 'model.fit');
      if (val) tr.head(run.loss, val.t.kind === 'labels', 'model.fit');
      tr.reserve(Math.min(run.batchSize, Math.max(n, 1)));
      Object.assign(run, { x: input, n, t, val, head });
      this.#fits++;
    } finally {
      this.leave();
    }
    this.#fitting = true;
    try {
      return await this.#fitLoop(run);
    } finally {
      this.#fitting = false;
    }
  }

  /** predictAsync's block in shared mode (rows, results, the workers' scratch). */
  readonly #asyncBlock: Kept = { ptr: 0, floats: 0, busy: false };

  /** The rows of fit's steps on the worker pool (and the extra slices' slope gradients): a block
   *  of the model, kept for the next fit and freed by dispose (after the workers are done with it). */
  #par: { ptr: number; block: ParallelBlock } | undefined;

  /** The pool's calls that write into this model's blocks (fit's steps, predictAsync in shared mode). */
  readonly #writers = new Set<Promise<unknown>>();

  /** A model disposed while workers still write into its blocks frees them when they are done. */
  protected override inUse(): Promise<unknown> | undefined {
    return this.#writers.size ? Promise.all([...this.#writers]) : undefined;
  }

  /** Run `work` (workers writing into this model's blocks), keeping disposal's free until it settles. */
  async #pooled<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(() => {}, () => {});
    this.#writers.add(settled);
    try {
      return await work;
    } finally {
      this.#writers.delete(settled);
    }
  }

  /** Barrier sequence numbers of this model's parallel steps (never 0). */
  #seq = 0;

  /** What a step on the pool (src/train/parallel.ts, loaded with it) needs of this model. */
  #stepHost(): StepHost {
    const self = this;
    return (this.#host ??= {
      ctx: this.#ctx,
      get trainer() { return self.#trainer!; },
      outputs: this.#outputs,
      get disposed() { return self.disposed; },
      get block() { return self.#par; },
      set block(b) { self.#par = b; },
      enter: () => this.enter('fit'),
      leave: () => this.leave(),
      own: (floats) => this.own(floats),
      disown: (ptr) => this.disown(ptr),
      pooled: (work) => this.#pooled(work),
      failed: () => this.#failed(),
      changed: () => { this.#version++; },
      nextSeq: () => (this.#seq = this.#seq >= 0x3fffffff ? 1 : this.#seq + 1),
    });
  }
  #host: StepHost | undefined;

  /** A parallel step failed half-way (every slice has settled): its partial gradients must not
   *  reach the next step, in the model's slabs or in the block's slope gradients. */
  #failed(): void {
    if (this.disposed) return;
    this.#trainer?.clearGradients();
    if (this.#par) this.disown(this.#par.ptr);
    this.#par = undefined;
  }

  /** How many slices a training step of B rows runs in: the pool's threads in shared mode when the
   *  step's work (forward and backward, about 3× predict's) gains from them, else 1. */
  #trainSlices(B: number): number {
    const par = this.#ctx.parallel;
    if (!par?.shared || 3 * B * this.#rowWork < PARALLEL_FROM) return 1;
    return Math.min(par.threads(), B);
  }

  async #fitLoop(run: FitRun): Promise<History> {
    const { n, t, x, head, loss, batchSize, signal } = run;
    const classify = loss === 'crossEntropy' || loss === 'binaryCrossEntropy';
    const history: History = { loss: [] };
    if (classify) history.accuracy = [];
    if (run.val) {
      history.valLoss = [];
      if (classify) history.valAccuracy = [];
    }
    const order = identity(n);
    const rng = new Rng(run.seed, 0x5eed);
    const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
    const aborted = () => { if (signal?.aborted) throw signal.reason ?? new SimdnnError('INVALID_ARGUMENT', 'model.fit: aborted'); };
    let lastYield = now();
    let stop = false;
    let steps = 0;
    const slopes = this.#built.some((l) => l.slopes);
    for (let epoch = 0; epoch < run.epochs && !stop; epoch++) {
      if (run.shuffle) shuffle(order, rng);
      let sum = 0;
      let seen = 0;
      let correct = 0;
      for (let from = 0, batch = 0; from < n; from += batchSize, batch++) {
        aborted();
        const B = Math.min(batchSize, n - from);
        // Dropout masks: from fit's seed (the model's seed and fit count, or options.seed), one
        // step per batch, so a seeded fit is reproducible (and the same masks on the pool).
        const masks = this.#trainer!.dropout ? { base: run.seed, step: steps++ } : undefined;
        const slices = this.#trainSlices(B);
        const pooled = slices >= 2 ? await (await import('./train/parallel.js')).parallelStep(this.#stepHost(), run, order, from, B, masks, classify, slices) : undefined;
        let l: number;
        if (pooled) {
          l = pooled.loss;
          correct += pooled.correct;
          this.#slopesMoved ||= slopes;
        } else {
          this.enter('fit');
          try {
            const tr = this.#trainer!;
            tr.load(x!, t!, order, from, B);
            this.#version++;
            l = tr.step(head!, B, run.optimizer, run.clipNorm, masks);
            // `layers` read in a callback shows the slopes as trained so far
            this.#slopesMoved ||= slopes;
            if (classify) correct += countCorrect(tr.outputView(head!, B), t!, order, from, B, this.#outputs, loss === 'binaryCrossEntropy', 0);
          } finally {
            this.leave();
          }
        }
        sum += l * B;
        seen += B;
        if (run.onBatchEnd && (await run.onBatchEnd(batch, { loss: l, batchSize: B })) === false) stop = true;
        if (stop) break;
        if (now() - lastYield >= 10) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      aborted();
      const logs: { loss: number; accuracy?: number; valLoss?: number; valAccuracy?: number } = { loss: sum / seen };
      if (classify) logs.accuracy = correct / seen;
      if (run.val) {
        this.enter('fit');
        try {
          const v = this.#evaluateRows(run.val.x, run.val.t, run.val.n, loss, batchSize, 'model.fit');
          logs.valLoss = v.loss;
          if (classify) logs.valAccuracy = v.accuracy;
        } finally {
          this.leave();
        }
      }
      history.loss.push(logs.loss);
      if (classify) history.accuracy!.push(logs.accuracy!);
      if (run.val) {
        history.valLoss!.push(logs.valLoss!);
        if (classify) history.valAccuracy!.push(logs.valAccuracy!);
      }
      if (run.onEpochEnd && (await run.onEpochEnd(epoch, logs)) === false) stop = true;
      await yieldToEventLoop();
      lastYield = now();
    }
    return history;
  }

  /** Layers with parameters: dense layers, and activation layers with a prelu (its slopes). */
  #parameterised(): Array<{ l: LayerInfo; i: number }> {
    return this.#layers.map((l, i) => ({ l, i })).filter(({ l, i }) => l.type === 'dense' || this.#built[i]!.slopes > 0);
  }

  /**
   * The parameters, one entry per layer with parameters, in layer order: a dense layer's
   * `{ weights, bias }` (weights row-major [units][inputs]) with `slope` when its activation is
   * prelu, and a prelu activation layer's `{ weights: [], bias: [], slope }` (empty weights and
   * bias: it has none). A slope is 1 value (shared by every unit) or one per unit.
   */
  getWeights(): LayerWeights[] {
    this.enter('getWeights');
    try {
      return this.#parameterised().map(({ l, i }) => {
        const b = this.#built[i]!;
        const slope = b.slopes ? ops.download(this.#ctx, b.slope, b.slopes) : undefined;
        if (l.type !== 'dense') return { weights: new Float32Array(0), bias: new Float32Array(0), slope: slope! };
        const { weights, bias } = ops.unpackWeights(this.#ctx, b.packed, l.inputs, l.units);
        return slope ? { weights, bias, slope } : { weights, bias };
      });
    } finally {
      this.leave();
    }
  }

  /** Replace the parameters (getWeights' form: weights [units][inputs] flat or nested; a dense
   *  layer's bias optional: zeros; its `slope` optional: kept; a prelu activation layer's entry
   *  needs only `slope`, its weights and bias absent or empty). Optimizer state is kept. */
  setWeights(list: ReadonlyArray<{ weights?: Weights; bias?: NumberArray; slope?: NumberArray }>): void {
    this.enter('setWeights');
    try {
      this.#notFitting('setWeights');
      const entries = this.#parameterised();
      const count: unknown = Array.isArray(list) ? list.length : undefined;
      if (count !== entries.length) {
        throw new SimdnnError('SHAPE_MISMATCH', `model.setWeights: expected an array of ${entries.length} { weights, bias } entries (one per dense layer${entries.some(({ l }) => l.type !== 'dense') ? ', and one per prelu activation layer with its slope' : ''}), received ${describe(list)}`);
      }
      // Read and check everything before writing anything.
      const values = entries.map(({ l, i }, j) => {
        const entry = (list as readonly unknown[])[j];
        const form = l.type === 'dense' ? '{ weights, bias }' : '{ slope }';
        if (entry === null || typeof entry !== 'object') throw new SimdnnError('INVALID_WEIGHTS', `model.setWeights: [${j}] must be ${form}, received ${describe(entry)}`);
        const { weights, bias, slope } = entry as Record<string, unknown>;
        const where = `model.setWeights: [${j}] (layers[${i}])`;
        const slopes = this.#built[i]!.slopes;
        if (slope !== undefined && !slopes) throw new SimdnnError('INVALID_WEIGHTS', `${where}: has no prelu activation, so no 'slope'`);
        if (l.type !== 'dense' && slope === undefined) throw new SimdnnError('INVALID_WEIGHTS', `${where}.slope is required (the prelu layer's ${slopes} slope${slopes > 1 ? 's' : ''})`);
        if (l.type !== 'dense') {
          for (const [name, v] of [['weights', weights], ['bias', bias]] as const) {
            if (v !== undefined && !(typeof v === 'object' && v !== null && (v as ArrayLike<unknown>).length === 0)) {
              throw new SimdnnError('INVALID_WEIGHTS', `${where}.${name}: a prelu activation layer has no ${name} (empty or absent), received ${describe(v)}`);
            }
          }
        }
        const w = l.type === 'dense' ? toFloats(weights, l.units * l.inputs, l.units, l.inputs, `${where}.weights`, 'inputs][units') : undefined;
        const b = l.type !== 'dense' ? undefined : bias === undefined ? new Float32Array(l.units) : toFloats(bias, l.units, 1, l.units, `${where}.bias`);
        const s = slope === undefined ? undefined : toFloats(slope, slopes, 1, slopes, `${where}.slope`);
        for (const [name, a] of [['weights', w], ['bias', b], ['slope', s]] as const) {
          const bad = a ? a.findIndex((v) => !Number.isFinite(v)) : -1;
          if (bad >= 0) throw new SimdnnError('INVALID_WEIGHTS', `${where}.${name}[${bad}] is ${describe(a![bad])}; ${F32_RANGE}`);
        }
        return { w, b, s };
      });
      this.#version++;
      entries.forEach(({ l, i }, j) => {
        const built = this.#built[i]!;
        const { w, b, s } = values[j]!;
        if (s) {
          ops.upload(this.#ctx, built.slope, s);
          if (built.descA) ops.copyFloat(this.#ctx, built.descA, built.slope);
          this.#slopesMoved = true;
        }
        if (!w || !b) return;
        const arena = this.#ctx.arena;
        const raw = arena.allocF32(l.units * l.inputs + l.units);
        try {
          ops.upload(this.#ctx, raw, w);
          ops.upload(this.#ctx, raw + w.length * 4, b);
          ops.packWeights(this.#ctx, built.packed, raw, raw + w.length * 4, l.inputs, l.units, 'out-in');
        } finally {
          arena.release(raw);
        }
      });
    } finally {
      this.leave();
    }
  }
}

/** A layer name as shown in a table: control characters escaped, at most 40 characters. */
function printable(name: string): string {
  const escaped = JSON.stringify(name).slice(1, -1);
  return escaped.length > 40 ? escaped.slice(0, 39) + '…' : escaped;
}

/** `leakyRelu(alpha=0.2)`, or the bare name when it has no parameters. */
function activationLabel(name: string, params: Readonly<ActivationParams>): string {
  const entries = Object.entries(params).map(([k, v]) =>
    `${k}=${Array.isArray(v) ? (v.length > 4 ? `[${v.slice(0, 4).join(',')},…]` : `[${v.join(',')}]`) : String(v)}`);
  return entries.length ? `${name}(${entries.join(', ')})` : name;
}

/** The spec form of a resolved activation: its name, or `{ name, ...params }`. */
function activationSpecOf(act: ResolvedActivation): ActivationSpec {
  const params = Object.entries(act.params);
  return (params.length ? { name: act.name, ...Object.fromEntries(params) } : act.name) as ActivationSpec;
}

/** A result array (`what` names it, built only for the error: this runs on every call), or OUT_OF_MEMORY when the engine cannot allocate it (a Float32Array
 *  or Buffer past its maximum length throws a RangeError). */
export function allocResult(ctx: Ctx, n: number, what: () => string): Float32Array {
  try {
    return ctx.result(n);
  } catch (cause) {
    throw new SimdnnError('OUT_OF_MEMORY', `${what()}: cannot allocate ${n} floats (${describe(cause instanceof Error ? cause.message : cause)}); use a smaller input or batch`, { cause });
  }
}

/** Bind a model's public methods so that `const { predict } = model` works. */
function bindModelMethods(model: Sequential): void {
  const self = model as unknown as Record<string, unknown>;
  for (const name of [
    'predict', 'predictInto', 'predictAsync', 'summary', 'toJSON', 'save', 'toString', 'dispose',
    'fit', 'trainStep', 'gradients', 'evaluate', 'getWeights', 'setWeights',
  ] as const) {
    const method = self[name] as (...args: unknown[]) => unknown;
    Object.defineProperty(model, name, { value: method.bind(model), writable: true, configurable: true, enumerable: false });
  }
}

function checkSize(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1 << 24) {
    throw new SimdnnError('INVALID_SPEC', `${what} must be a positive integer (at most ${1 << 24}), received ${describe(value)}`);
  }
  return value;
}

function checkBatch(batch: unknown): number {
  return checkInt(batch, 'batch', 0, 1 << 24);
}

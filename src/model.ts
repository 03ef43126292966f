import { SimdnnError, checkInt, describe } from './errors.js';
import { ACTIVATION_KINDS, resolveActivation, type ActivationSpec, type ResolvedActivation } from './activations.js';
import { Resource, type Registry } from './resource.js';
import * as ops from './ops.js';
import type { Ctx } from './ops.js';

/** Numbers as a flat array (Float32Array, number[]) or nested rows (number[][]). */
export type Weights = ArrayLike<number> | ReadonlyArray<ArrayLike<number>>;

/** A fully connected layer: y = activation(W·x + b). */
export interface DenseLayerSpec {
  type?: 'dense';
  /** Input features. Required on the first layer (or as the model's `inputs`); checked on the others. */
  inputs?: number;
  /** Output features (neurons). */
  units: number;
  /** Default 'linear'. A name, or `{ name, ...params }` such as `{ name: 'leakyRelu', alpha: 0.2 }`. */
  activation?: ActivationSpec;
  /** units×inputs numbers, row-major [units][inputs] (PyTorch, ONNX), or [inputs][units] with
   *  `weightsLayout: 'in-out'` (Keras, scikit-learn). Flat or nested arrays. */
  weights: Weights;
  /** units numbers; zeros when absent. */
  bias?: ArrayLike<number>;
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

export type LayerSpec = DenseLayerSpec | ActivationLayerSpec;

/** The simdnn model format, version 1: plain JSON (weights may also be Float32Arrays). */
export interface ModelSpec {
  format?: 'simdnn';
  version?: 1;
  /** Input features of the first layer (alternative to layers[0].inputs). */
  inputs?: number;
  layers: ReadonlyArray<LayerSpec>;
}

/** One layer as summary() and `layers` describe it. */
export interface LayerInfo {
  readonly name: string;
  readonly type: 'dense' | 'activation';
  readonly inputs: number;
  readonly units: number;
  readonly activation: string;
  readonly params: number;
}

function specError(where: string, message: string): SimdnnError {
  return new SimdnnError('INVALID_SPEC', `${where}: ${message}`);
}

/** Whether a number survives conversion to float32 as a finite value (1e39 is finite in float64
 *  but becomes Infinity in a Float32Array). */
const finiteF32 = (v: number) => Number.isFinite(Math.fround(v));
const F32_RANGE = 'weights must be finite numbers within the float32 range (|w| ≤ 3.4028234663852886e38)';

/** Flatten and validate numbers: exactly `expected` numbers in the given row structure. Plain
 *  arrays are checked for finite float32 values here; typed arrays are returned as float32 without
 *  that check, which #build makes in one pass in wasm memory (ops.firstNonFinite). */
function toFloats(value: unknown, expected: number, rows: number, cols: number, where: string): Float32Array {
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    throw new SimdnnError('INVALID_WEIGHTS', `${where} must hold numbers, received ${describe(value)} (BigInt values)`);
  }
  if (value instanceof Float32Array || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    const arr = value as unknown as ArrayLike<number>;
    if (arr.length !== expected) {
      throw new SimdnnError('INVALID_WEIGHTS', `${where} has ${arr.length} values but ${expected} are expected (${rows}×${cols})`);
    }
    // Other typed arrays convert natively (1e39 in a Float64Array becomes Infinity, which the
    // bulk check then reports with the original value).
    return value instanceof Float32Array ? value : new Float32Array(arr);
  }
  if (!Array.isArray(value)) {
    throw new SimdnnError('INVALID_WEIGHTS', `${where} must be an array of ${expected} numbers, received ${describe(value)}`);
  }
  const out = new Float32Array(expected);
  const nested = value.length > 0 && typeof value[0] !== 'number';
  if (nested) {
    if (value.length !== rows) {
      throw new SimdnnError('INVALID_WEIGHTS', `${where} has ${value.length} rows but ${rows} rows of ${cols} are expected`);
    }
    for (let r = 0; r < rows; r++) {
      const row: unknown = value[r];
      const len = Array.isArray(row) || ArrayBuffer.isView(row) ? (row as ArrayLike<number>).length : -1;
      if (len !== cols) {
        throw new SimdnnError('INVALID_WEIGHTS', `${where}[${r}] must be ${cols} numbers, received ${describe(row)}`);
      }
      for (let c = 0; c < cols; c++) {
        const v = (row as ArrayLike<unknown>)[c];
        if (typeof v !== 'number' || !finiteF32(v)) {
          throw new SimdnnError('INVALID_WEIGHTS', `${where}[${r}][${c}] is ${describe(v)}; ${F32_RANGE}`);
        }
        out[r * cols + c] = v;
      }
    }
    return out;
  }
  if (value.length !== expected) {
    throw new SimdnnError('INVALID_WEIGHTS', `${where} has ${value.length} values but ${expected} are expected (${rows}×${cols})`);
  }
  for (let i = 0; i < expected; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number' || !finiteF32(v)) {
      throw new SimdnnError('INVALID_WEIGHTS', `${where}[${i}] is ${describe(v)}; ${F32_RANGE}`);
    }
    out[i] = v;
  }
  return out;
}

interface BuiltLayer {
  info: LayerInfo;
  act: ResolvedActivation;
  type: number;
  packed: number;
  slope: number;
}

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
  get layers(): ReadonlyArray<LayerInfo> { return this.#layers; }
  /** Trainable parameter count (weights + biases). */
  get parameterCount(): number { return this.#parameterCount; }

  readonly #ctx: Ctx;
  readonly #desc: number;
  readonly #widest: number;
  #capacity = 0;
  #io = { x: 0, out: 0, a: 0, b: 0 };

  /** @internal use `nn.sequential(spec)` */
  constructor(ctx: Ctx, registry: Registry, spec: ModelSpec) {
    super(registry, 'model');
    this.#ctx = ctx;
    try {
      if (spec === null || typeof spec !== 'object') throw specError('model', `spec must be an object, received ${describe(spec)}`);
      if (spec.format !== undefined && spec.format !== 'simdnn') {
        throw specError('model', `format must be 'simdnn', received ${describe(spec.format)}`);
      }
      if (spec.version !== undefined && spec.version !== 1) {
        throw specError('model', `version ${describe(spec.version)} is not supported; this simdnn reads version 1`);
      }
      if (!Array.isArray(spec.layers) || spec.layers.length === 0) {
        throw specError('model', `'layers' must be a non-empty array, received ${describe(spec.layers)}`);
      }
      const built: BuiltLayer[] = [];
      let width: number | undefined = spec.inputs === undefined ? undefined : checkSize(spec.inputs, 'model.inputs');
      const layer0: unknown = spec.layers[0];
      if (layer0 === null || typeof layer0 !== 'object') throw specError('layers[0]', `must be an object, received ${describe(layer0)}`);
      const first = width ?? (layer0 as DenseLayerSpec).inputs;
      if (first === undefined) throw specError('layers[0]', `'inputs' is required on the first layer (or as the model's 'inputs')`);
      width = checkSize(first, 'layers[0].inputs');
      const inputs = width;
      let widest = width;
      let params = 0;
      spec.layers.forEach((layer, i) => {
        const b = this.#build(layer, i, width!);
        built.push(b);
        width = b.info.units;
        widest = Math.max(widest, width);
        params += b.info.params;
      });
      this.#inputs = inputs;
      this.#outputs = width;
      this.#widest = widest;
      this.#layers = Object.freeze(built.map((b) => Object.freeze(b.info)));
      this.#parameterCount = params;
      this.#desc = this.own((built.length * ops.DESC_BYTES) / 4);
      built.forEach((b, i) => {
        ops.writeDescriptor(ctx, this.#desc + i * ops.DESC_BYTES, {
          type: b.type, inputs: b.info.inputs, units: b.info.units, packed: b.packed, act: b.act, slope: b.slope,
        });
      });
      // Warm-up: run each kernel once so the first user call does not pay for lazy compilation.
      this.predict(new Float32Array(this.#inputs), 1);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  #build(layer: LayerSpec, i: number, width: number): BuiltLayer {
    const where = `layers[${i}]`;
    if (layer === null || typeof layer !== 'object') throw specError(where, `must be an object, received ${describe(layer)}`);
    if (layer.name !== undefined && typeof layer.name !== 'string') {
      throw specError(where, `name must be a string, received ${describe(layer.name)}`);
    }
    const type = layer.type ?? 'dense';
    if (type === 'activation') {
      const act = this.#activation((layer as ActivationLayerSpec).activation, width, where);
      return {
        info: { name: layer.name ?? `${act.name}_${i}`, type, inputs: width, units: width, activation: act.name, params: 0 },
        act, type: ops.LAYER_TYPE.activation, packed: 0, slope: this.#slope(act, width),
      };
    }
    if (type !== 'dense') throw specError(where, `unknown layer type ${describe(type)}; expected 'dense' or 'activation'`);
    const d = layer as DenseLayerSpec;
    if (d.inputs !== undefined && d.inputs !== width) {
      throw new SimdnnError('SHAPE_MISMATCH', `${where}: inputs is ${describe(d.inputs)} but the previous layer has ${width} outputs`);
    }
    const units = checkSize(d.units, `${where}.units`);
    const layout = d.weightsLayout ?? 'out-in';
    if (layout !== 'out-in' && layout !== 'in-out') {
      throw specError(where, `weightsLayout must be 'out-in' or 'in-out', received ${describe(layout)}`);
    }
    const act = this.#activation(d.activation ?? 'linear', units, where);
    const weights = layout === 'out-in'
      ? toFloats(d.weights, units * width, units, width, `${where}.weights`)
      : toFloats(d.weights, units * width, width, units, `${where}.weights`);
    const bias = d.bias === undefined ? undefined : toFloats(d.bias, units, 1, units, `${where}.bias`);
    // Upload raw weights, pack them into panels, then free the raw copy.
    const packed = this.own(ops.packedBytes(this.#ctx, width, units) / 4);
    const arena = this.#ctx.arena;
    const raw = arena.allocF32(weights.length + units);
    try {
      ops.upload(this.#ctx, raw, weights);
      if (bias) ops.upload(this.#ctx, raw + weights.length * 4, bias);
      // One SIMD pass over weights and bias (a JS loop over a fresh model's weights runs in the
      // interpreter: about 0.2 µs per value the first time).
      const bad = ops.firstNonFinite(this.#ctx, raw, weights.length + (bias ? units : 0));
      if (bad >= 0) {
        const [name, source, at] = bad < weights.length ? ['weights', d.weights, bad] : ['bias', d.bias, bad - weights.length];
        throw new SimdnnError('INVALID_WEIGHTS', `${where}.${name}[${at}] is ${describe((source as ArrayLike<unknown>)[at])}; ${F32_RANGE}`);
      }
      ops.packWeights(this.#ctx, packed, raw, bias ? raw + weights.length * 4 : 0, width, units, layout);
    } finally {
      arena.release(raw);
    }
    return {
      info: { name: d.name ?? `dense_${i}`, type: 'dense', inputs: width, units, activation: act.name, params: units * width + units },
      act, type: ops.LAYER_TYPE.dense, packed, slope: this.#slope(act, units),
    };
  }

  #activation(spec: unknown, units: number, where: string): ResolvedActivation {
    try {
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

  /** Upload a PReLU slope broadcast to one per unit; 0 for other activations. */
  #slope(act: ResolvedActivation, units: number): number {
    if (act.kind !== ACTIVATION_KINDS.prelu || !act.slope) return 0;
    const slope = act.slope.length === units ? act.slope : new Float32Array(units).fill(act.slope[0]!);
    const ptr = this.own(units);
    ops.upload(this.#ctx, ptr, slope);
    return ptr;
  }

  /** Floats of one I/O region of `n` values: 16-byte aligned, with one spare vector for SIMD tails. */
  static #region(n: number): number {
    return Math.ceil(n / 4) * 4 + 4;
  }

  /** Floats of the I/O block for `cap` rows: input, output and two ping-pong scratch regions. */
  #ioFloats(cap: number): number {
    return Sequential.#region(cap * this.#inputs) + Sequential.#region(cap * this.#outputs) +
      2 * Sequential.#region(cap * this.#widest);
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
    const { ptr, index } = this.ownFirst(caps.map((cap) => this.#ioFloats(cap)));
    const cap = caps[index]!;
    const out = ptr + Sequential.#region(cap * this.#inputs) * 4;
    const a = out + Sequential.#region(cap * this.#outputs) * 4;
    const b = a + Sequential.#region(cap * this.#widest) * 4;
    this.#io = { x: ptr, out, a, b };
    this.#capacity = cap;
  }

  /**
   * Run the model on `batch` rows of `inputs` features (row-major) and return `batch` rows of
   * `outputs` features in a new Float32Array.
   */
  predict(x: Float32Array | ArrayLike<number>, batch = 1): Float32Array {
    // Validate everything before allocating the result: batch × outputs floats may be gigabytes.
    this.alive('predict');
    const input = this.#input(x, checkBatch(batch));
    let out: Float32Array;
    try {
      out = this.#ctx.result(batch * this.#outputs); // predictInto writes every value
    } catch (cause) {
      throw new SimdnnError(
        'OUT_OF_MEMORY',
        `model.predict: cannot allocate the result, batch × outputs = ${batch} × ${this.#outputs} floats; use a smaller batch`,
        { cause },
      );
    }
    return this.predictInto(input, out, batch);
  }

  /** The input as a Float32Array of batch × inputs values, or a SimdnnError. */
  #input(x: Float32Array | ArrayLike<number>, batch: number): Float32Array {
    let input: Float32Array;
    if (x instanceof Float32Array) input = x;
    else if (Array.isArray(x) && x.every((v) => typeof v === 'number')) input = Float32Array.from(x);
    else throw new SimdnnError('INVALID_ARGUMENT', `model.predict: x must be a Float32Array (or an array of numbers), received ${describe(x)}`);
    if (input.length !== batch * this.#inputs) {
      throw new SimdnnError(
        'SHAPE_MISMATCH',
        `model.predict: input has ${input.length} values but the model expects batch × inputs = ${batch} × ${this.#inputs} = ${batch * this.#inputs}`,
      );
    }
    return input;
  }

  /** Like predict, but writes into `out` (batch × outputs floats) and returns it: no allocation. */
  predictInto(x: Float32Array | ArrayLike<number>, out: Float32Array, batch = 1): Float32Array {
    this.alive('predict');
    const input = this.#input(x, checkBatch(batch));
    if (!(out instanceof Float32Array) || out.length !== batch * this.#outputs) {
      throw new SimdnnError(
        'SHAPE_MISMATCH',
        `model.predictInto: out must be a Float32Array of batch × outputs = ${batch * this.#outputs} values, received ${describe(out)}`,
      );
    }
    if (batch === 0) return out;
    this.#reserve(batch);
    const io = this.#io;
    ops.upload(this.#ctx, io.x, input);
    ops.modelForward(this.#ctx, io.out, io.x, batch, this.#desc, this.#layers.length, io.a, io.b);
    return ops.download(this.#ctx, io.out, batch * this.#outputs, out);
  }

  /** A readable table of the layers, their shapes, activations and parameter counts. */
  summary(): string {
    const rows = [['layer', 'type', 'output shape', 'activation', 'params']];
    for (const l of this.#layers) rows.push([l.name, l.type, `[batch, ${l.units}]`, l.activation, String(l.params)]);
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
    const rule = '-'.repeat(line(rows[0]!).length);
    return [
      `Sequential: ${this.#inputs} inputs → ${this.#outputs} outputs`,
      rule, line(rows[0]!), rule, ...rows.slice(1).map(line), rule,
      `total params: ${this.#parameterCount}`,
    ].join('\n');
  }

  override toString(): string {
    return this.summary();
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

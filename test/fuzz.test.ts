// Hardening: model-based fuzzing of the whole public API against float64 references.
//
// Each run starts two fresh runtimes (one limited to 16 MiB so OUT_OF_MEMORY happens, one with the
// default maximum so memory grows) and executes a random sequence of public-API steps: create models
// of random shapes/activations/weight formats, predict random batches (0..70 rows, some rows holding
// NaN/±Inf/3e38), run activations and softmax on extreme values, dispose in random order,
// double-dispose, use after dispose, bad arguments, and large requests that grow memory or fail.
// After EVERY step: every live model still returns bit-identical outputs for its probe input (so no
// step corrupted another object's memory), nn.memory() matches the bytes each object was seen to
// allocate, the arena's own invariants hold (free list, alignment, no overlap), and memory never
// shrinks nor passes its maximum. Any error that is not a SimdnnError with the expected code fails.
//
// Reproduce a failure: FUZZ_SEED=<seed> FUZZ_PATH=<path> FUZZ_REPLAY=<replayPath> npx vitest run
// --project node test/fuzz.test.ts  (fast-check prints all three). FUZZ_STEPS sets the step count.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRuntime, SimdnnError, type Runtime, type Sequential, type ModelSpec } from '../src/node.js';
import { internalArena } from '../src/model.js';
import { Arena } from '../src/wasm/memory.js';
import { rand, refActivation, refSoftmax } from './reference.js';
import { SIMD } from './runtime.js';
import { BUDGET, env, envInt, wasmModule } from './hardening.js';
import {
  activationTolerance, dotTolerance, F32_MAX, LOG_SOFTMAX_TOLERANCE, SOFTMAX_TOLERANCE, type ActParams,
} from './tolerances.js';

const SEED = envInt('FUZZ_SEED', 0x15_5e_05);
/** Public-API steps: 10,000 in the `node` project, fewer in the others (see BUDGET). */
const STEPS = envInt('FUZZ_STEPS', 10_000 * BUDGET);
/** Operations of the arena property (pure TypeScript: cheap, and the same on every project). */
const ARENA_STEPS = envInt('FUZZ_ARENA_STEPS', 5_000 * BUDGET);
const PATH = env('FUZZ_PATH');
const REPLAY = env('FUZZ_REPLAY');
const COMMANDS_PER_RUN = 120;
const MAX_LIVE = 8;
const SMALL_MAX = 16 << 20;

let wasm: WebAssembly.Module;
beforeAll(async () => {
  wasm = await wasmModule(SIMD);
});

// ---------------------------------------------------------------------------------------------
// Generated descriptions (plain data, so counterexamples print and replay).

interface Act {
  name: string;
  alpha?: number; beta?: number; gamma?: number; min?: number; max?: number;
  approximate?: 'none' | 'tanh';
  /** prelu: one slope, or 'perChannel' (random slopes, one per channel, from slopeSeed). */
  slope?: number | 'perChannel';
  slopeSeed?: number;
}

interface GenLayer {
  kind: 'dense' | 'activation';
  units: number;
  act: Act;
  layout: 'out-in' | 'in-out' | undefined;
  format: 'flat' | 'nested' | 'f32' | 'f64';
  bias: boolean;
  /** Repeat `inputs` on a hidden dense layer (checked for consistency by simdnn). */
  inputsOnLayer: boolean;
  /** Weights with exact zeros, −0 and subnormals sprinkled in. */
  odd: boolean;
  seed: number;
}

interface GenModel { inputs: number; layers: GenLayer[]; inputsOnModel: boolean; viaDense: boolean }

const num = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const opt = { requiredKeys: ['name'] as ['name'] };
const SIMPLE = ['linear', 'step', 'relu', 'relu6', 'silu', 'mish', 'sigmoid', 'hardSwish', 'tanh', 'softplus', 'softsign', 'exp', 'erf', 'sign'];
const clipBound = fc.oneof(num(-3, 3), fc.constantFrom(-Infinity, Infinity));
const elementwiseArb: fc.Arbitrary<Act> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SIMPLE).map((name) => ({ name })) },
  fc.record({ name: fc.constant('leakyRelu'), alpha: num(-2, 2) }, opt),
  fc.record({ name: fc.constant('elu'), alpha: num(-1, 3) }, opt),
  fc.record({ name: fc.constant('celu'), alpha: num(0.2, 3) }, opt),
  fc.record({ name: fc.constant('selu'), alpha: num(0.5, 2.5), gamma: num(0.5, 1.5) }, opt),
  fc.record({ name: fc.constant('gelu'), approximate: fc.constantFrom<'none' | 'tanh'>('none', 'tanh') }, opt),
  fc.record({ name: fc.constant('hardSigmoid'), alpha: num(-1, 1), beta: num(-1, 1) }, opt),
  fc.record({ name: fc.constant('thresholdedRelu'), alpha: num(-2, 2) }, opt),
  fc.record({ name: fc.constant('clip'), min: clipBound, max: clipBound }, opt),
  fc.record({ name: fc.constant('prelu'), slope: fc.oneof(num(-1, 1), fc.constant<'perChannel'>('perChannel')), slopeSeed: fc.nat() }),
);
const layerActArb: fc.Arbitrary<Act> = fc.oneof(
  { weight: 8, arbitrary: elementwiseArb },
  { weight: 1, arbitrary: fc.constantFrom('softmax', 'logSoftmax').map((name) => ({ name })) },
);
const widthArb = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(1, 3, 4, 5, 8, 16, 31, 32, 33));
const layerArb = (units: fc.Arbitrary<number>): fc.Arbitrary<GenLayer> => fc.record({
  kind: fc.constantFrom<'dense' | 'activation'>('dense', 'dense', 'dense', 'activation'),
  units,
  act: layerActArb,
  layout: fc.constantFrom<GenLayer['layout']>('out-in', 'in-out', undefined),
  format: fc.constantFrom<GenLayer['format']>('flat', 'nested', 'f32', 'f64'),
  bias: fc.boolean(),
  inputsOnLayer: fc.boolean(),
  odd: fc.boolean(),
  seed: fc.nat(),
});
const modelArb: fc.Arbitrary<GenModel> = fc.record({
  inputs: widthArb,
  layers: fc.array(layerArb(widthArb), { minLength: 1, maxLength: 4 }),
  inputsOnModel: fc.boolean(),
  viaDense: fc.boolean(),
});
/** Large enough to grow memory (or fail with OUT_OF_MEMORY in the 16 MiB runtime). */
const bigModelArb: fc.Arbitrary<GenModel> = fc.record({
  inputs: fc.integer({ min: 300, max: 1600 }),
  layers: fc.tuple(layerArb(fc.integer({ min: 300, max: 1600 }))).map(([l]) => [{ ...l, kind: 'dense' as const, format: 'f32' as const }]),
  inputsOnModel: fc.boolean(),
  viaDense: fc.constant(false),
});

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1e-40, -1e-40, 1.1754943508222875e-38, -1.1754943508222875e-38,
  3e38, -3e38, F32_MAX, -F32_MAX, 88.7, -88.7, 89, -104, 1, -1, 0.5, -0.5, 6, -6, 3, -3];
const valueArb = fc.oneof(
  { weight: 2, arbitrary: fc.float() }, // any float32, NaN, ±Infinity, −0 and subnormals included
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 4, arbitrary: fc.float({ min: -10, max: 10, noNaN: true }) },
);
const valuesArb = fc.array(valueArb, { maxLength: 70 });

// ---------------------------------------------------------------------------------------------
// Float64 reference model, with a propagated error bound per value.

interface RefAct {
  name: string; // canonical name, or 'softmax' / 'logSoftmax'
  params: ActParams;
  /** prelu: slope per channel (float32 values). */
  slope?: Float64Array;
}
interface RefLayer { dense: boolean; K: number; N: number; w?: Float64Array; b?: Float64Array; act: RefAct }
interface RefModel { inputs: number; outputs: number; layers: RefLayer[]; params: number }

const f32 = Math.fround;
/** Float32-rounded parameters, as the kernels receive them. */
function refParams(a: Act): ActParams {
  const p: ActParams = {};
  for (const k of ['alpha', 'beta', 'gamma', 'min', 'max'] as const) if (a[k] !== undefined) p[k] = f32(a[k]!);
  if (a.approximate) p.approximate = a.approximate;
  return p;
}
function slopeValues(a: Act, channels: number): Float32Array {
  if (a.slope === 'perChannel') return rand(channels, a.slopeSeed ?? 1, -1, 1);
  return Float32Array.of(a.slope ?? 0);
}
/** PReLU slopes are parameters: one per channel, or one shared. */
function slopeCount(a: Act, channels: number): number {
  return a.name !== 'prelu' ? 0 : a.slope === 'perChannel' ? channels : 1;
}
function refAct(a: Act, channels: number): RefAct {
  const r: RefAct = { name: a.name, params: refParams(a) };
  if (a.name === 'prelu') {
    const s = slopeValues(a, channels);
    r.slope = Float64Array.from({ length: channels }, (_, i) => s[s.length === 1 ? 0 : i]!);
  }
  return r;
}
/** The activation as simdnn takes it: a name, or `{ name, ...params }`. */
function specAct(a: Act, channels: number): unknown {
  const { slope, slopeSeed: _s, name, ...rest } = a;
  if (name === 'prelu') return { name, slope: slope === 'perChannel' ? Array.from(slopeValues(a, channels)) : slope };
  return Object.keys(rest).length ? { name, ...rest } : name;
}
/** Parameters for nn.activate(name, x, params). */
function methodParams(a: Act, channels: number): Record<string, unknown> | undefined {
  const s = specAct(a, channels);
  if (typeof s === 'string') return undefined;
  const { name: _n, ...params } = s as Record<string, unknown>;
  return params;
}

function elementwise(act: RefAct, x: number, channel: number): number {
  if (act.slope) {
    if (Number.isNaN(x)) return NaN;
    return x < 0 ? act.slope[channel]! * x : x;
  }
  return refActivation(act.name, x, act.params);
}

/** Where the non-monotone activations turn (the error bound samples them when inside the interval). */
const TURNS: Record<string, number[]> = {
  silu: [-1.2784645], gelu: [-0.7517916, -0.7522], mish: [-1.1924], hardSwish: [-1.5],
  elu: [0], celu: [0], selu: [0], leakyRelu: [0], prelu: [0], step: [0], sign: [0],
};

function tolOf(act: RefAct) {
  return act.name === 'prelu' ? activationTolerance('prelu') : activationTolerance(act.name, act.params);
}

/** Apply an activation to values v with error bounds e, over rows of `cols`, in place. */
function applyAct(act: RefAct, v: Float64Array, e: Float64Array, cols: number): void {
  if (act.name === 'softmax' || act.name === 'logSoftmax') {
    const log = act.name === 'logSoftmax';
    const t = log ? LOG_SOFTMAX_TOLERANCE : SOFTMAX_TOLERANCE;
    for (let r = 0; r * cols < v.length; r++) {
      const row = v.subarray(r * cols, (r + 1) * cols);
      const er = e.subarray(r * cols, (r + 1) * cols);
      let E = 0;
      for (let j = 0; j < cols; j++) E = Math.max(E, er[j]!, Number.isFinite(row[j]!) ? 0 : Infinity);
      const s = refSoftmax(row, cols, log);
      for (let j = 0; j < cols; j++) {
        // Perturbing every input by at most E scales each softmax value by a factor in [e^−2E, e^2E]
        // and moves each log-softmax value by at most 2E.
        const move = log ? 2 * E : Math.abs(s[j]!) * Math.expm1(2 * E);
        row[j] = s[j]!;
        er[j] = E === Infinity ? Infinity : 1.01 * move + t.abs + t.rel * Math.abs(s[j]!);
      }
    }
    return;
  }
  const tol = tolOf(act);
  const turns = TURNS[act.name] ?? [];
  if (act.name === 'thresholdedRelu') turns.push(act.params.alpha ?? 1);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    const ch = i % cols;
    const r = elementwise(act, x, ch);
    const ex = e[i]!;
    let dev = 0;
    if (ex > 0) {
      if (!(ex < Infinity) || !Number.isFinite(x)) dev = Infinity;
      else {
        for (const t of [x - ex, x + ex, ...turns.filter((c) => c > x - ex && c < x + ex)]) {
          const d = Math.abs(elementwise(act, t, ch) - r);
          dev = Math.max(dev, Number.isNaN(d) ? Infinity : d);
        }
      }
    }
    v[i] = r;
    e[i] = dev === Infinity ? Infinity : 1.01 * dev * (1 + tol.rel) + tol.abs + tol.rel * Math.abs(r);
  }
}

/** The reference forward pass of `batch` rows: values and error bounds. */
function forward(model: RefModel, x: Float32Array, batch: number): { v: Float64Array; e: Float64Array } {
  let v = Float64Array.from(x);
  let e = new Float64Array(x.length);
  for (const L of model.layers) {
    if (L.dense) {
      const { K, N, w, b } = L;
      const g = dotTolerance(K);
      const nv = new Float64Array(batch * N);
      const ne = new Float64Array(batch * N);
      for (let m = 0; m < batch; m++) {
        for (let n = 0; n < N; n++) {
          const bias = b ? b[n]! : 0;
          let s = bias;
          let mag = Math.abs(bias);
          let prop = 0;
          for (let k = 0; k < K; k++) {
            const wk = w![n * K + k]!;
            const t = v[m * K + k]! * wk;
            s += t;
            mag += Math.abs(t);
            prop += Math.abs(wk) * e[m * K + k]!;
          }
          nv[m * N + n] = s;
          // Relative rounding per operation, plus absolute rounding in the subnormal range.
          const bound = prop + g * (mag + prop) + (K + 2) * 2 ** -149;
          ne[m * N + n] = Number.isFinite(bound) && Number.isFinite(s) ? bound : Infinity;
        }
      }
      v = nv;
      e = ne;
    }
    applyAct(L.act, v, e, L.N);
  }
  return { v, e };
}

/** Fuzz-wide statistics. */
const stats = { steps: 0, runs: 0, checked: 0, unbounded: 0, oom: 0, created: 0, predicted: 0, rejected: 0 };

/** Does float32 `a` lie within the bound (r ± e)? Unbounded values (overflow chains) are counted. */
function within(a: number, r: number, e: number): boolean {
  stats.checked++;
  if (!(e < Infinity)) { stats.unbounded++; return true; }
  if (Number.isNaN(r)) return Number.isNaN(a);
  if (Number.isNaN(a)) return false;
  if (!Number.isFinite(r)) return a === r;
  if (!Number.isFinite(a)) return Math.abs(r) + e >= F32_MAX && Math.sign(a) === Math.sign(r || a);
  return Math.abs(a - r) <= e;
}

function checkOutputs(what: string, y: Float32Array, ref: { v: Float64Array; e: Float64Array }, rows?: Set<number>, cols = 1): void {
  if (y.length !== ref.v.length) throw new Error(`${what}: ${y.length} outputs, expected ${ref.v.length}`);
  for (let i = 0; i < y.length; i++) {
    if (rows && !rows.has(Math.floor(i / cols))) continue;
    if (!within(y[i]!, ref.v[i]!, ref.e[i]!)) {
      throw new Error(`${what}: output[${i}] = ${y[i]}, expected ${ref.v[i]} ± ${ref.e[i]}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Building specs (several weight formats) and their references.

function layerWeights(L: GenLayer, K: number, N: number): { outIn: Float32Array; given: unknown; bias?: Float32Array } {
  const outIn = rand(N * K, L.seed, -1, 1).map((v) => f32(v / Math.sqrt(K)));
  if (L.odd) {
    const odd = [0, -0, 1e-40, -1e-45, 1.1754943508222875e-38];
    for (let i = L.seed % 3; i < outIn.length; i += 3) outIn[i] = odd[i % odd.length]!;
  }
  const layout = L.layout ?? 'out-in';
  const [rows, cols] = layout === 'out-in' ? [N, K] : [K, N];
  const flat = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) flat[layout === 'out-in' ? n * K + k : k * N + n] = outIn[n * K + k]!;
  let given: unknown;
  switch (L.format) {
    case 'flat': given = Array.from(flat); break;
    case 'nested': given = Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * cols, (r + 1) * cols))); break;
    case 'f32': given = flat; break;
    case 'f64': given = Float64Array.from(flat); break;
  }
  const bias = L.bias ? rand(N, L.seed + 1, -0.5, 0.5) : undefined;
  return { outIn, given, bias };
}

function build(gen: GenModel): { spec: ModelSpec; ref: RefModel } {
  const layers: unknown[] = [];
  const refLayers: RefLayer[] = [];
  let width = gen.inputs;
  let params = 0;
  gen.layers.forEach((L, i) => {
    if (L.kind === 'activation') {
      layers.push({ type: 'activation', activation: specAct(L.act, width) });
      refLayers.push({ dense: false, K: width, N: width, act: refAct(L.act, width) });
      params += slopeCount(L.act, width);
      return;
    }
    const K = width;
    const N = L.units;
    const { outIn, given, bias } = layerWeights(L, K, N);
    const spec: Record<string, unknown> = { units: N, weights: given, activation: specAct(L.act, N) };
    if (L.layout) spec.weightsLayout = L.layout;
    if (bias) spec.bias = L.format === 'flat' || L.format === 'nested' ? Array.from(bias) : bias;
    if (i === 0 ? !gen.inputsOnModel : L.inputsOnLayer) spec.inputs = K;
    if (L.seed % 5 === 0) spec.type = 'dense';
    layers.push(spec);
    refLayers.push({ dense: true, K, N, w: Float64Array.from(outIn), b: bias && Float64Array.from(bias), act: refAct(L.act, N) });
    params += K * N + N + slopeCount(L.act, N);
    width = N;
  });
  const spec: ModelSpec = { layers: layers as ModelSpec['layers'] };
  if (gen.inputsOnModel || gen.layers[0]!.kind === 'activation') spec.inputs = gen.inputs;
  if (gen.layers[0]!.seed % 2 === 0) Object.assign(spec, { format: 'simdnn', version: 1 });
  return { spec, ref: { inputs: gen.inputs, outputs: width, layers: refLayers, params } };
}

function modelInput(inputs: number, batch: number, seed: number, special: boolean): { x: Float32Array; clean: Set<number> } {
  const x = rand(inputs * batch, seed, -2, 2);
  const clean = new Set<number>();
  for (let m = 0; m < batch; m++) {
    if (special && (m + seed) % 3 === 0) {
      for (let k = 0; k < inputs; k++) if ((k + m) % 2 === 0) x[m * inputs + k] = SPECIAL[(seed + m + k) % SPECIAL.length]!;
    } else clean.add(m);
  }
  return { x, clean };
}

// ---------------------------------------------------------------------------------------------
// The system under test and the checks after each step.

interface Live {
  id: number;
  rt: number;
  model: Sequential;
  ref: RefModel;
  /** Bytes nn.memory() was seen to grow by because of this model (creation, larger batches). */
  bytes: number;
  probe: Float32Array;
  golden: Float32Array;
}
interface Rt { nn: Runtime; sentinel: Live; heap: number }

function expectError(what: string, f: () => unknown, codes: readonly string[]): SimdnnError {
  try {
    f();
  } catch (err) {
    if (!(err instanceof SimdnnError)) throw new Error(`${what}: escaped as ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
    if (!codes.includes(err.code)) throw new Error(`${what}: code ${err.code}, expected ${codes.join(' or ')}: ${err.message}`);
    return err;
  }
  throw new Error(`${what}: did not throw (expected ${codes.join(' or ')})`);
}

/** Run f; an OUT_OF_MEMORY SimdnnError is allowed (returns undefined), anything else thrown fails. */
function maybeOom<T>(what: string, f: () => T): T | undefined {
  try {
    return f();
  } catch (err) {
    if (err instanceof SimdnnError && err.code === 'OUT_OF_MEMORY') { stats.oom++; return undefined; }
    if (err instanceof SimdnnError) throw new Error(`${what}: unexpected ${err.code}: ${err.message}`, { cause: err });
    throw new Error(`${what}: escaped as ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
  }
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** A hook into the arena for its invariant check (an internal export of src/model.ts). */
function arenaOf(model: Sequential): Arena {
  return internalArena(model);
}

class World {
  readonly live: Live[] = [];
  readonly dead: Live[] = [];
  nextId = 1;
  constructor(readonly rts: Rt[]) {}

  /** Create a model and check it against the reference; undefined when OUT_OF_MEMORY. */
  create(rtIndex: number, gen: GenModel, what: string): Live | undefined {
    const rt = this.rts[rtIndex]!;
    const { spec, ref } = build(gen);
    const before = rt.nn.memory();
    const useDense = gen.viaDense && spec.layers.length === 1 && spec.inputs === undefined;
    const model = maybeOom(what, () => (useDense ? rt.nn.dense(spec.layers[0] as never) : rt.nn.sequential(spec)));
    const after = rt.nn.memory();
    if (!model) {
      expect({ objects: after.objects, bytes: after.bytes }, `${what}: failed creation left memory`).toEqual({ objects: before.objects, bytes: before.bytes });
      return undefined;
    }
    stats.created++;
    expect(after.objects, `${what}: objects`).toBe(before.objects + 1);
    expect([model.inputs, model.outputs, model.parameterCount, model.layers.length]).toEqual([ref.inputs, ref.outputs, ref.params, ref.layers.length]);
    const id = this.nextId++;
    const probe = rand(ref.inputs, id, -2, 2);
    const golden = model.predict(probe, 1);
    checkOutputs(`${what}: probe`, golden, forward(ref, probe, 1));
    const live: Live = { id, rt: rtIndex, model, ref, bytes: rt.nn.memory().bytes - before.bytes, probe, golden };
    return live;
  }

  /** Invariants after every step (plain comparisons: this runs ~10,000 times). */
  verify(step: string): void {
    const fail = (msg: string): never => { throw new Error(`${step}: ${msg}`); };
    for (let i = 0; i < this.rts.length; i++) {
      const rt = this.rts[i]!;
      const mem = rt.nn.memory();
      let objects = 1;
      let bytes = rt.sentinel.bytes;
      for (const l of this.live) if (l.rt === i) { objects++; bytes += l.bytes; }
      if (mem.objects !== objects) fail(`runtime ${i}: nn.memory().objects is ${mem.objects}, expected ${objects}`);
      if (mem.bytes !== bytes) fail(`runtime ${i}: nn.memory().bytes is ${mem.bytes}, expected ${bytes} (what the live objects allocated)`);
      if (mem.heapBytes < rt.heap) fail(`runtime ${i}: heapBytes shrank from ${rt.heap} to ${mem.heapBytes}`);
      if (mem.heapBytes > mem.maximumBytes) fail(`runtime ${i}: heapBytes ${mem.heapBytes} past the maximum ${mem.maximumBytes}`);
      if (mem.bytes + mem.scratchBytes > mem.heapBytes) fail(`runtime ${i}: ${mem.bytes} + ${mem.scratchBytes} bytes live in a heap of ${mem.heapBytes}`);
      rt.heap = mem.heapBytes;
      const bad = arenaOf(rt.sentinel.model).check();
      if (bad) fail(`runtime ${i}: arena invariant broken: ${bad}`);
    }
    for (const l of [...this.rts.map((r) => r.sentinel), ...this.live]) {
      const y = l.model.predict(l.probe, 1);
      if (!same(y, l.golden)) fail(`model #${l.id} changed its output for its probe: memory was corrupted (${Array.from(y.subarray(0, 4))} vs ${Array.from(l.golden.subarray(0, 4))})`);
    }
  }

  /** Make room for one more model: dispose the oldest. */
  room(): void {
    if (this.live.length < MAX_LIVE) return;
    const oldest = this.live[0]!;
    oldest.model.dispose();
    this.dispose(oldest);
  }

  dispose(l: Live): void {
    this.live.splice(this.live.indexOf(l), 1);
    this.dead.push(l);
    if (this.dead.length > 16) this.dead.shift();
  }
}

type Cmd = fc.Command<object, World>;
abstract class Step implements Cmd {
  check(_m: Readonly<object>): boolean { return true; }
  abstract exec(w: World): void;
  abstract toString(): string;
  run(_m: object, w: World): void {
    stats.steps++;
    this.exec(w);
    // Short labels in messages: fast-check prints the whole command sequence (toString) on failure.
    w.verify(`after ${this.constructor.name}`);
  }
}

class CreateStep extends Step {
  constructor(readonly rt: number, readonly gen: GenModel) { super(); }
  exec(w: World): void {
    w.room();
    const l = w.create(this.rt, this.gen, 'create');
    if (l) w.live.push(l);
  }
  toString(): string { return `create(rt${this.rt}, ${JSON.stringify(this.gen)})`; }
}

type PredictApi = 'predict' | 'into' | 'array' | 'view';
class PredictStep extends Step {
  constructor(readonly pick: number, readonly batch: number, readonly api: PredictApi, readonly seed: number, readonly special: boolean) { super(); }
  exec(w: World): void {
    if (!w.live.length) return;
    const l = w.live[this.pick % w.live.length]!;
    const rt = w.rts[l.rt]!;
    const { inputs, outputs } = l.ref;
    // Keep the float64 reference cheap on the large models.
    const cost = l.ref.layers.reduce((s, L) => s + L.K * L.N, 0);
    const batch = Math.min(this.batch, Math.max(1, Math.floor(100_000 / cost)));
    const { x, clean } = modelInput(inputs, batch, this.seed, this.special);
    const before = rt.nn.memory();
    let y: Float32Array | undefined;
    const what = `predict(${this.api}, batch ${batch})`;
    switch (this.api) {
      case 'predict': y = maybeOom(what, () => l.model.predict(x, batch)); break;
      case 'into': {
        const out = new Float32Array(batch * outputs).fill(777);
        const r = maybeOom(what, () => l.model.predictInto(x, out, batch));
        if (r) expect(r, 'predictInto returns out').toBe(out);
        y = r;
        break;
      }
      case 'array': y = maybeOom(what, () => l.model.predict(Array.from(x), batch)); break;
      case 'view': {
        const backing = new Float32Array(x.length + 2).fill(-5);
        backing.set(x, 1);
        y = maybeOom(what, () => l.model.predict(backing.subarray(1, 1 + x.length), batch));
        expect([backing[0], backing[x.length + 1]]).toEqual([-5, -5]);
        expect(same(backing.subarray(1, 1 + x.length), x), 'input untouched').toBe(true);
        break;
      }
    }
    const after = rt.nn.memory();
    expect(after.objects).toBe(before.objects);
    l.bytes += after.bytes - before.bytes;
    if (!y) return;
    stats.predicted++;
    if (y.length !== batch * outputs) throw new Error(`${what}: ${y.length} outputs, expected ${batch} × ${outputs}`);
    // Every row of batches up to 16; 16 rows (the first and last 4, 8 spread) of larger ones. Rows
    // are independent, so a sample checks the row tiling without paying float64 for every row.
    const rows = batch <= 16 ? [...Array(batch).keys()]
      : [0, 1, 2, 3, batch - 4, batch - 3, batch - 2, batch - 1, ...Array.from({ length: 8 }, (_, i) => 4 + Math.floor(((i + 1) * (batch - 8)) / 9))];
    for (const r of rows) {
      if (!clean.has(r)) continue;
      checkOutputs(`${what}: row ${r}`, y.subarray(r * outputs, (r + 1) * outputs), forward(l.ref, x.subarray(r * inputs, (r + 1) * inputs), 1));
    }
  }
  toString(): string { return `predict(#${this.pick}, batch ${this.batch}, ${this.api}, seed ${this.seed}${this.special ? ', special rows' : ''})`; }
}

type ActApi = 'activate' | 'named' | 'inPlace' | 'out' | 'spec';
/** Variants of canonical names that are another framework's spelling with other semantics or
 *  defaults: PyTorch's 'hardsigmoid' is x/6 + 1/2; 'hard_sigmoid' (Keras 2 or 3?) and 'leaky_relu'
 *  (PyTorch or Keras 3?) need their parameter; 'leakyrelu' could be any of them (aliases.test.ts). */
const OTHER_MEANING = new Set(['hardsigmoid', 'hard_sigmoid', 'leakyrelu', 'leaky_relu']);
const METHOD: Record<string, string> = { leakyRelu: 'leakyRelu', hardSigmoid: 'hardSigmoid', thresholdedRelu: 'thresholdedRelu', hardSwish: 'hardSwish' };
class ActivateStep extends Step {
  constructor(readonly rt: number, readonly act: Act, readonly values: number[], readonly api: ActApi, readonly spelling: number) { super(); }
  exec(w: World): void {
    const { nn } = w.rts[this.rt]!;
    const a = this.act;
    // prelu with per-channel slopes: the length must be a multiple of the channel count.
    const channels = a.name === 'prelu' && a.slope === 'perChannel' ? 1 + ((a.slopeSeed ?? 0) % 7) : 1;
    const n = Math.floor(this.values.length / channels) * channels;
    const x = Float32Array.from(this.values.slice(0, n));
    const params = methodParams(a, channels);
    const spellings = [a.name, a.name.toLowerCase(), a.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), a.name[0]!.toUpperCase() + a.name.slice(1)]
      .filter((s) => !OTHER_MEANING.has(s));
    const name = spellings[this.spelling % spellings.length]!;
    const what = `activate(${name}, ${this.api})`;
    const before = nn.memory();
    let y: Float32Array | undefined;
    switch (this.api) {
      case 'activate': y = maybeOom(what, () => nn.activate(name as never, x, params as never)); break;
      case 'spec': y = maybeOom(what, () => nn.activate({ name, ...params } as never, x)); break;
      case 'named': {
        const m = (nn as unknown as Record<string, (...args: unknown[]) => Float32Array>)[METHOD[a.name] ?? a.name]!;
        y = maybeOom(what, () => (params ? m.call(nn, x, params) : m.call(nn, x)));
        break;
      }
      case 'inPlace': {
        const buf = x.slice();
        const r = maybeOom(what, () => nn.activate(name as never, buf, params as never, buf));
        if (r) expect(r).toBe(buf);
        y = r;
        break;
      }
      case 'out': {
        const backing = new Float32Array(n + 2).fill(42);
        const out = backing.subarray(1, 1 + n);
        const r = maybeOom(what, () => nn.activate(name as never, x, params as never, out));
        expect([backing[0], backing[n + 1]], 'nothing written around out').toEqual([42, 42]);
        if (r) expect(r).toBe(out);
        y = r;
        break;
      }
    }
    const after = nn.memory();
    expect({ objects: after.objects, bytes: after.bytes }).toEqual({ objects: before.objects, bytes: before.bytes });
    if (this.api !== 'inPlace') expect(same(x, Float32Array.from(this.values.slice(0, n))), 'input untouched').toBe(true);
    if (!y) return;
    const ref = refAct(a, channels);
    const v = Float64Array.from(x);
    const e = new Float64Array(n);
    applyAct(ref, v, e, channels);
    const t = tolOf(ref);
    for (let i = 0; i < n; i++) {
      const r = v[i]!;
      const got = y[i]!;
      const ok = t.exact
        ? got === f32(r) || (Number.isNaN(r) && Number.isNaN(got))
        : Number.isNaN(r) || Number.isNaN(got) ? Number.isNaN(r) && Number.isNaN(got)
          : !Number.isFinite(f32(r)) || !Number.isFinite(got) ? got === f32(r) : Math.abs(got - r) <= t.abs + t.rel * Math.abs(r);
      stats.checked++;
      if (!ok) throw new Error(`${what}: ${a.name}(${x[i]}) = ${got}, expected ${r} (abs ${t.abs}, rel ${t.rel})`);
    }
  }
  toString(): string { return `activate(rt${this.rt}, ${JSON.stringify(this.act)}, ${this.api}, spelling ${this.spelling}, [${this.values.map(String).join(', ')}])`; }
}

class SoftmaxStep extends Step {
  constructor(readonly rt: number, readonly log: boolean, readonly cols: number, readonly values: number[], readonly api: 'method' | 'activate' | 'into' | 'inPlace') { super(); }
  exec(w: World): void {
    const { nn } = w.rts[this.rt]!;
    const cols = this.api === 'activate' ? Math.max(1, this.values.length) : this.cols;
    const n = Math.floor(this.values.length / cols) * cols;
    const x = Float32Array.from(this.values.slice(0, n));
    const what = `${this.log ? 'logSoftmax' : 'softmax'}(${this.api}, cols ${cols})`;
    const f = (input: Float32Array, out?: Float32Array) => (this.log ? nn.logSoftmax(input, cols, out) : nn.softmax(input, cols, out));
    let y: Float32Array | undefined;
    switch (this.api) {
      case 'method': y = maybeOom(what, () => f(x)); break;
      case 'activate': y = maybeOom(what, () => nn.activate(this.log ? 'logSoftmax' : 'softmax', x)); break;
      case 'into': { const out = new Float32Array(n); y = maybeOom(what, () => f(x, out)); if (y) expect(y).toBe(out); break; }
      case 'inPlace': { const buf = x.slice(); y = maybeOom(what, () => f(buf, buf)); break; }
    }
    if (!y) return;
    const ref = refSoftmax(x, n === 0 ? 1 : cols, this.log);
    const t = this.log ? LOG_SOFTMAX_TOLERANCE : SOFTMAX_TOLERANCE;
    for (let i = 0; i < n; i++) {
      if (!within(y[i]!, ref[i]!, t.abs + t.rel * Math.abs(ref[i]!))) throw new Error(`${what}: [${i}] = ${y[i]}, expected ${ref[i]}`);
    }
  }
  toString(): string { return `${this.log ? 'logSoftmax' : 'softmax'}(rt${this.rt}, cols ${this.cols}, ${this.api}, [${this.values.map(String).join(', ')}])`; }
}

class DisposeStep extends Step {
  constructor(readonly pick: number, readonly how: 'dispose' | 'symbol' | 'twice') { super(); }
  exec(w: World): void {
    if (!w.live.length) return;
    const l = w.live[this.pick % w.live.length]!;
    const nn = w.rts[l.rt]!.nn;
    const before = nn.memory();
    if (this.how === 'symbol') l.model[Symbol.dispose]();
    else l.model.dispose();
    if (this.how === 'twice') l.model.dispose();
    const after = nn.memory();
    expect(l.model.disposed).toBe(true);
    expect([after.objects, after.bytes], `dispose frees exactly what #${l.id} took`).toEqual([before.objects - 1, before.bytes - l.bytes]);
    w.dispose(l);
  }
  toString(): string { return `dispose(#${this.pick}, ${this.how})`; }
}

class DeadStep extends Step {
  constructor(readonly pick: number, readonly op: 'predict' | 'predictInto' | 'dispose' | 'symbol') { super(); }
  exec(w: World): void {
    if (!w.dead.length) return;
    const l = w.dead[this.pick % w.dead.length]!;
    const nn = w.rts[l.rt]!.nn;
    const before = nn.memory();
    const x = new Float32Array(l.ref.inputs);
    switch (this.op) {
      case 'predict': expect(expectError('predict after dispose', () => l.model.predict(x), ['DISPOSED']).message).toMatch(/disposed/); break;
      case 'predictInto': expectError('predictInto after dispose', () => l.model.predictInto(x, new Float32Array(l.ref.outputs)), ['DISPOSED']); break;
      case 'dispose': l.model.dispose(); break;
      case 'symbol': l.model[Symbol.dispose](); break;
    }
    expect(nn.memory()).toEqual(before);
  }
  toString(): string { return `dead(#${this.pick}, ${this.op})`; }
}

const BAD = [
  'short', 'long', 'batchMismatch', 'negBatch', 'fracBatch', 'nanBatch', 'bigint', 'strings', 'outLen', 'outType',
  // Hostile objects: lengths that lie, Proxies, holes, getters that throw or re-enter, species.
  'lyingShort', 'lyingLong', 'lyingOut', 'proxy', 'sparse', 'throwingGetter', 'reentrantGetter', 'species',
] as const;

/** A Float32Array whose own `length` property claims `claimed` values. */
function lyingF32(real: number, claimed: number): Float32Array {
  const a = new Float32Array(real);
  Object.defineProperty(a, 'length', { value: claimed });
  return a;
}

/** A Float32Array subclass whose species makes arrays of the wrong size, with a lying length. */
class SpeciesF32 extends Float32Array {
  static get [Symbol.species](): Float32ArrayConstructor {
    return function (this: unknown) { return new Float32Array(3); } as unknown as Float32ArrayConstructor;
  }
  override get length(): number { return 1; }
}
class BadStep extends Step {
  constructor(readonly pick: number, readonly kind: (typeof BAD)[number]) { super(); }
  exec(w: World): void {
    if (!w.live.length) return;
    const l = w.live[this.pick % w.live.length]!;
    const nn = w.rts[l.rt]!.nn;
    const { inputs, outputs } = l.ref;
    const m = l.model;
    const before = nn.memory();
    const x = new Float32Array(inputs * 2);
    const what = `bad(${this.kind})`;
    stats.rejected++;
    switch (this.kind) {
      case 'short': expectError(what, () => m.predict(new Float32Array(inputs - 1), 1), ['SHAPE_MISMATCH']); break;
      case 'long': expectError(what, () => m.predict(new Float32Array(inputs + 1), 1), ['SHAPE_MISMATCH']); break;
      case 'batchMismatch': expectError(what, () => m.predict(x, 3), ['SHAPE_MISMATCH']); break;
      case 'negBatch': expectError(what, () => m.predict(x, -2), ['INVALID_ARGUMENT']); break;
      case 'fracBatch': expectError(what, () => m.predict(x, 1.5), ['INVALID_ARGUMENT']); break;
      case 'nanBatch': expectError(what, () => m.predict(x, NaN), ['INVALID_ARGUMENT']); break;
      case 'bigint': expectError(what, () => m.predict(new BigInt64Array(inputs) as never, 1), ['INVALID_ARGUMENT']); break;
      case 'lyingShort': expectError(what, () => m.predict(lyingF32(inputs + 5, inputs), 1), ['SHAPE_MISMATCH']); break;
      case 'lyingLong': expectError(what, () => m.predict(lyingF32(Math.max(0, inputs - 1), inputs), 1), ['SHAPE_MISMATCH']); break;
      case 'lyingOut': expectError(what, () => m.predictInto(x, lyingF32(outputs * 2 + 7, outputs * 2), 2), ['SHAPE_MISMATCH']); break;
      case 'proxy': expectError(what, () => m.predict(new Proxy(new Float32Array(inputs), {}), 1), ['INVALID_ARGUMENT']); break;
      case 'sparse': expectError(what, () => m.predict(new Array(inputs) as never, 1), ['INVALID_ARGUMENT']); break;
      case 'throwingGetter': {
        const arr = Array.from({ length: inputs }, () => 0);
        const mine = new Error('from the getter');
        Object.defineProperty(arr, inputs - 1, { get() { throw mine; } });
        let caught: unknown;
        try { m.predict(arr, 1); } catch (err) { caught = err; }
        expect(caught, `${what}: the caller's own error propagates unchanged`).toBe(mine);
        break;
      }
      case 'reentrantGetter': {
        // The getter tries to dispose the model and to move the staging buffer mid-call: both are
        // refused (REENTRANT_CALL); the getter swallows that and the outer call gives the right answer.
        const arr = Array.from({ length: inputs }, (_, i) => (i % 3) - 1);
        const want = m.predict(Float32Array.from(arr), 1);
        const codes: string[] = [];
        Object.defineProperty(arr, 0, {
          get() {
            for (const f of [() => m.dispose(), () => nn.relu(new Float32Array(1 << 16)), () => nn.sequential({ inputs: 1, layers: [{ units: 1, weights: [1] }] })]) {
              try { f(); } catch (err) { codes.push((err as SimdnnError).code); }
            }
            return -1;
          },
        });
        const got = m.predict(arr, 1);
        expect(codes, what).toEqual(['REENTRANT_CALL', 'REENTRANT_CALL', 'REENTRANT_CALL']);
        expect(same(got, want), `${what}: the outer call's result`).toBe(true);
        break;
      }
      case 'species': {
        const n = inputs * 5 + 3;
        const xs = new SpeciesF32(n);
        for (let i = 0; i < n; i++) xs[i] = Math.sin(i) * 4;
        const want = nn.relu(new Float32Array(xs.buffer).slice());
        const got = nn.relu(xs);
        expect(new Float32Array(got.buffer, got.byteOffset, n).length, what).toBe(n);
        expect(same(new Float32Array(got.buffer, got.byteOffset, n), want), `${what}: every value`).toBe(true);
        const inPlace = new SpeciesF32(n);
        inPlace.set(new Float32Array(xs.buffer));
        nn.relu(inPlace, inPlace);
        expect(same(new Float32Array(inPlace.buffer), want), `${what}: in place`).toBe(true);
        break;
      }
      case 'strings': expectError(what, () => m.predict(Array(inputs).fill('1') as never, 1), ['INVALID_ARGUMENT']); break;
      case 'outLen': expectError(what, () => m.predictInto(x, new Float32Array(outputs * 2 + 1), 2), ['SHAPE_MISMATCH']); break;
      case 'outType': expectError(what, () => m.predictInto(x, new Float64Array(outputs * 2) as never, 2), ['SHAPE_MISMATCH', 'INVALID_ARGUMENT']); break;
    }
    expect(nn.memory(), `${what}: a rejected call changes nothing`).toEqual(before);
  }
  toString(): string { return `bad(#${this.pick}, ${this.kind})`; }
}

class BigStep extends Step {
  constructor(readonly rt: number, readonly kind: 'model' | 'batch' | 'activation' | 'softmax', readonly size: number, readonly gen: GenModel, readonly pick: number) { super(); }
  exec(w: World): void {
    const rt = w.rts[this.rt]!;
    const what = `big(${this.kind})`;
    if (this.kind === 'model') {
      w.room();
      const l = w.create(this.rt, this.gen, what);
      if (l) w.live.push(l);
      return;
    }
    if (this.kind === 'batch') {
      const mine = w.live.filter((l) => l.rt === this.rt);
      if (!mine.length) return;
      const l = mine[this.pick % mine.length]!;
      const { inputs, outputs } = l.ref;
      const widest = Math.max(inputs, ...l.ref.layers.map((L) => L.N));
      // 2k..20k rows, at most ~32 MB of buffers.
      const batch = Math.max(1, Math.min(2000 + (this.size % 18_000), Math.floor(8e6 / (inputs + outputs + 2 * widest))));
      const x = rand(batch * inputs, this.size, -2, 2);
      const before = rt.nn.memory();
      const y = maybeOom(what, () => l.model.predict(x, batch));
      const after = rt.nn.memory();
      l.bytes += after.bytes - before.bytes;
      if (!y) {
        // OUT_OF_MEMORY frees nothing it should keep (a model may drop its scratch buffers).
        expect(after.bytes, `${what}: OOM leaves bytes`).toBeLessThanOrEqual(before.bytes);
        return;
      }
      // Check a sample of rows (first, last, and a spread) against the reference.
      const rows = [0, batch - 1, ...Array.from({ length: 6 }, (_, i) => Math.floor(((i + 1) * batch) / 7))];
      for (const r of rows) {
        const xr = x.subarray(r * inputs, (r + 1) * inputs);
        checkOutputs(`${what}: row ${r}`, y.subarray(r * outputs, (r + 1) * outputs), forward(l.ref, xr, 1));
      }
      return;
    }
    const n = 1000 * (100 + (this.size % 2900)); // 0.1M..3M floats: 0.4..12 MB
    const x = rand(n, this.size, -20, 20);
    const before = rt.nn.memory();
    // tanh streams through the staging buffer; a softmax row of n values needs it whole.
    const y = maybeOom(what, () => (this.kind === 'activation' ? rt.nn.tanh(x) : rt.nn.softmax(x)));
    const after = rt.nn.memory();
    expect(after.bytes).toBe(before.bytes);
    if (!y) return;
    const t = activationTolerance('tanh');
    let m = -Infinity;
    let s = 0;
    if (this.kind === 'softmax') {
      for (let i = 0; i < n; i++) m = Math.max(m, x[i]!);
      for (let i = 0; i < n; i++) s += Math.exp(x[i]! - m);
    }
    for (let i = 0; i < n; i += 997) {
      const r = this.kind === 'activation' ? Math.tanh(x[i]!) : Math.exp(x[i]! - m) / s;
      const tol = this.kind === 'activation' ? t.abs + t.rel * Math.abs(r) : SOFTMAX_TOLERANCE.abs + 1e-4 * r;
      if (!within(y[i]!, r, tol)) throw new Error(`${what}: [${i}] = ${y[i]}, expected ${r}`);
    }
  }
  toString(): string { return `big(rt${this.rt}, ${this.kind}, size ${this.size}, pick ${this.pick}${this.kind === 'model' ? ', ' + JSON.stringify(this.gen) : ''})`; }
}

const rtArb = fc.constantFrom(0, 1);
const commandArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 14, arbitrary: fc.tuple(rtArb, modelArb).map(([rt, g]) => new CreateStep(rt, g)) },
  {
    weight: 30,
    arbitrary: fc.tuple(fc.nat(), fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 70 })), fc.constantFrom<PredictApi>('predict', 'into', 'array', 'view'), fc.nat(), fc.boolean())
      .map(([p, b, api, s, sp]) => new PredictStep(p, b, api, s, sp && s % 4 === 0)),
  },
  {
    weight: 18,
    arbitrary: fc.tuple(rtArb, elementwiseArb, valuesArb, fc.constantFrom<ActApi>('activate', 'named', 'inPlace', 'out', 'spec'), fc.nat(3))
      .map(([rt, a, v, api, sp]) => new ActivateStep(rt, a, v, api, sp)),
  },
  {
    weight: 8,
    arbitrary: fc.tuple(rtArb, fc.boolean(), fc.integer({ min: 1, max: 17 }), valuesArb, fc.constantFrom('method', 'activate', 'into', 'inPlace') as fc.Arbitrary<'method' | 'activate' | 'into' | 'inPlace'>)
      .map(([rt, log, cols, v, api]) => new SoftmaxStep(rt, log, cols, v, api)),
  },
  { weight: 10, arbitrary: fc.tuple(fc.nat(), fc.constantFrom<'dispose' | 'symbol' | 'twice'>('dispose', 'symbol', 'twice')).map(([p, h]) => new DisposeStep(p, h)) },
  { weight: 4, arbitrary: fc.tuple(fc.nat(), fc.constantFrom<'predict' | 'predictInto' | 'dispose' | 'symbol'>('predict', 'predictInto', 'dispose', 'symbol')).map(([p, op]) => new DeadStep(p, op)) },
  { weight: 4, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(...BAD)).map(([p, k]) => new BadStep(p, k)) },
  {
    weight: 1,
    arbitrary: fc.tuple(rtArb, fc.constantFrom<'model' | 'batch' | 'activation' | 'softmax'>('model', 'batch', 'activation', 'softmax'), fc.nat(), bigModelArb, fc.nat())
      .map(([rt, k, s, g, p]) => new BigStep(rt, k, s, g, p)),
  },
);

async function newWorld(): Promise<World> {
  const rts: Rt[] = [];
  for (const maximumMemory of [SMALL_MAX, undefined]) {
    const nn = await createRuntime({ simd: SIMD, wasm, ...(maximumMemory ? { maximumMemory } : {}) });
    expect(nn.features.binary).toBe(SIMD);
    rts.push({ nn, sentinel: undefined as never, heap: 0 });
  }
  const w = new World(rts);
  // The sentinels: one long-lived model per runtime, a canary for corruption and the arena hook.
  for (const [i, rt] of rts.entries()) {
    const l = w.create(i, {
      inputs: 5, inputsOnModel: false, viaDense: false,
      layers: [{ kind: 'dense', units: 7, act: { name: 'tanh' }, layout: undefined, format: 'f32', bias: true, inputsOnLayer: false, odd: false, seed: 7 + i }],
    }, 'sentinel');
    if (!l) throw new Error('could not create the sentinel');
    rt.sentinel = l;
  }
  return w;
}

describe(`fuzz: the public API against float64 references (${SIMD} binary)`, () => {
  it(`${STEPS} random public-API steps, checked after every step (seed ${SEED})`, async () => {
    const property = fc.asyncProperty(fc.commands([commandArb], { maxCommands: COMMANDS_PER_RUN, size: 'max', replayPath: REPLAY }), async (cmds) => {
      stats.runs++;
      const world = await newWorld();
      fc.modelRun(() => ({ model: {}, real: world }), cmds);
      for (const l of [...world.live, ...world.rts.map((r) => r.sentinel)]) l.model.dispose();
      for (const rt of world.rts) expect(rt.nn.memory()).toMatchObject({ objects: 0, bytes: 0 });
    });
    const t0 = performance.now();
    const seeds: number[] = [];
    if (PATH) {
      await fc.assert(property, { seed: SEED, path: PATH, numRuns: 1, verbose: 1, endOnFailure: true });
    } else {
      // Batches of runs (seed, seed + 1, …) until STEPS steps ran: the count is exact whatever the
      // seed. A failure report names the batch's seed: FUZZ_SEED=<it> FUZZ_PATH=… replays it.
      while (stats.steps < STEPS) {
        const seed = SEED + seeds.length;
        seeds.push(seed);
        const numRuns = Math.max(1, Math.ceil((STEPS - stats.steps) / (COMMANDS_PER_RUN / 2)));
        await fc.assert(property, { seed, numRuns, verbose: 1, endOnFailure: false });
      }
    }
    const ms = performance.now() - t0;
    console.log(
      `fuzz (${SIMD}): ${stats.steps} steps in ${stats.runs} runs, ${(ms / 1000).toFixed(1)} s, seeds ${seeds.join(', ') || SEED}; ` +
        `${stats.created} models created, ${stats.predicted} predictions, ${stats.rejected} rejected calls, ${stats.oom} OUT_OF_MEMORY, ` +
        `${stats.checked} values checked (${stats.unbounded} unbounded: overflow chains)`,
    );
    if (!PATH) expect(stats.steps).toBeGreaterThanOrEqual(STEPS);
    // Values past what float64 can bound (chains of exp overflowing to ±Infinity) are not checked;
    // make sure they stay rare, so the check above is not vacuous.
    expect(stats.unbounded).toBeLessThan(stats.checked * 0.1);
  });
});

// ---------------------------------------------------------------------------------------------
// The arena on its own: random allocate/release sequences, with every live block filled with its
// own byte pattern (padding included) and checked after each operation.

type ArenaOp = { op: 'alloc'; bytes: number } | { op: 'release'; pick: number } | { op: 'bad'; kind: number };
const arenaOpArb: fc.Arbitrary<ArenaOp> = fc.oneof(
  { weight: 5, arbitrary: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 200_000 })).map((bytes) => ({ op: 'alloc' as const, bytes })) },
  { weight: 4, arbitrary: fc.nat().map((pick) => ({ op: 'release' as const, pick })) },
  { weight: 1, arbitrary: fc.nat(5).map((kind) => ({ op: 'bad' as const, kind })) },
);

describe('fuzz: the arena (src/wasm/memory.ts)', () => {
  it(`${ARENA_STEPS} random allocate/release operations keep blocks disjoint, aligned, coalesced and within the maximum`, () => {
    let ops = 0;
    fc.assert(
      fc.property(fc.array(arenaOpArb, { minLength: 20, maxLength: 200, size: 'max' }), fc.integer({ min: 0, max: 100 }), (list, baseOffset) => {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 48 });
        const arena = new Arena(memory, 1000 + baseOffset, 48 * 65536);
        const live: Array<{ ptr: number; size: number; tag: number }> = [];
        let tag = 1;
        const bytesView = () => new Uint8Array(memory.buffer);
        const verify = (step: string) => {
          const bad = arena.check();
          if (bad) throw new Error(`${step}: ${bad}`);
          const u8 = bytesView();
          // Each block's first and last 16 bytes and a sample in between still hold its pattern.
          for (const b of live) {
            const end = b.ptr + b.size;
            for (let i = b.ptr; i < end; i += i < b.ptr + 16 || i >= end - 16 ? 1 : 4093) {
              if (u8[i] !== b.tag) throw new Error(`${step}: block ${b.ptr}+${b.size} overwritten at ${i}`);
            }
          }
          expect(arena.stats().bytes).toBe(live.reduce((s, b) => s + b.size, 0));
        };
        for (const o of list) {
          ops++;
          const before = arena.stats();
          if (o.op === 'alloc') {
            let ptr: number;
            try {
              ptr = arena.alloc(o.bytes);
            } catch (err) {
              expect(err).toBeInstanceOf(SimdnnError);
              expect((err as SimdnnError).code).toBe('OUT_OF_MEMORY');
              expect((err as SimdnnError).message).toMatch(/cannot allocate \d+ bytes.*maximum/);
              expect(arena.stats()).toEqual(before);
              verify(`alloc ${o.bytes} (OOM)`);
              continue;
            }
            const size = arena.sizeOf(ptr);
            expect(ptr % 16).toBe(0);
            expect(size).toBeGreaterThanOrEqual(o.bytes + 16);
            expect(ptr + size).toBeLessThanOrEqual(memory.buffer.byteLength);
            const t = (tag++ % 250) + 1;
            bytesView().fill(t, ptr, ptr + size);
            live.push({ ptr, size, tag: t });
          } else if (o.op === 'release') {
            if (!live.length) continue;
            const [b] = live.splice(o.pick % live.length, 1);
            arena.release(b!.ptr);
            expect(arena.sizeOf(b!.ptr)).toBe(0);
          } else {
            const calls = [() => arena.alloc(-1), () => arena.alloc(1.5), () => arena.alloc(NaN), () => arena.alloc(2 ** 60),
              () => arena.release(live.length ? live[0]!.ptr + 8 : 999_999), () => arena.release(-16)];
            const err = (() => { try { calls[o.kind]!(); } catch (e) { return e; } return undefined; })();
            expect(err).toBeInstanceOf(SimdnnError);
            expect(['INVALID_ARGUMENT', 'OUT_OF_MEMORY']).toContain((err as SimdnnError).code);
            expect(arena.stats()).toEqual(before);
          }
          verify(JSON.stringify(o));
        }
        for (const b of live.splice(0)) arena.release(b.ptr);
        verify('release all');
        expect(arena.stats()).toMatchObject({ blocks: 0, bytes: 0, freeBlocks: 0 });
        // Everything is one bump region again: the largest block that fits the maximum is available.
        const all = arena.alloc(48 * 65536 - Math.ceil((1000 + baseOffset) / 16) * 16 - 32);
        arena.release(all);
      }),
      { seed: SEED, numRuns: Math.ceil(ARENA_STEPS / 110), verbose: 1 },
    );
    console.log(`arena fuzz: ${ops} operations, seed ${SEED}`);
  });
});

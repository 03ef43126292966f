// The benchmark workloads: deterministic data (seeded, so every child process builds bit-identical
// weights and inputs), a float64 reference, and the correctness check every contender must pass
// before it is timed.
//
//   W1  one dense layer relu(W·x + b), batch 1, 64² … 4096²
//   W2  MLP 784-512-256-10 (relu, relu, softmax), batch 1 / 32 / 256
//   W3  elementwise over 1M floats: relu, sigmoid, tanh, gelu (exact, erf form), softmax (rows of 1000)
//   W4  training: one Adam step (softmax + cross-entropy on class indices) on 64-128-64-10, batch 32,
//       and on 784-512-256-10, batch 64. Checked differently (see checkTraining): the first step's
//       loss against a float64 forward pass of the same initial weights, then the loss falling.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Elements of every W3 workload: 1000 softmax rows of 1000. */
export const ELEMENTWISE_N = 1_000_000;
export const SOFTMAX_COLS = 1000;
export const MLP_SHAPE = [784, 512, 256, 10];
/** Training workloads cycle through this many different batches (the same data for every contender). */
export const TRAIN_BATCHES = 8;
/** Steps on batch 0 before timing: the first loss is checked against float64, the last must be lower. */
export const TRAIN_CHECK_STEPS = 5;

/** mulberry32: small, fast, deterministic. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function uniform(n, lo, hi, seed) {
  const r = rng(seedOf(seed));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** He-uniform weights [units][inputs] (keeps relu activations O(1) through the layers) and a small bias. */
function denseLayer(inputs, units, activation, seed) {
  const a = Math.sqrt(6 / inputs);
  return {
    inputs, units, activation,
    weights: uniform(inputs * units, -a, a, `${seed}:w`),
    bias: uniform(units, -0.1, 0.1, `${seed}:b`),
  };
}

// ---------------------------------------------------------------- float64 reference

function erf64(x) {
  // erf via its Maclaurin series for |x| < 3 (converges to ~1e-16), 1 − erfc continued fraction beyond.
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz continued fraction for erfc(ax), ax ≥ 3.
  let f = ax, C = ax, D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = ax + an * D; D = 1 / D;
    C = ax + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const REF_ACT = {
  relu: (v) => (v > 0 ? v : 0),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: (v) => Math.tanh(v),
  gelu: (v) => 0.5 * v * (1 + erf64(v / Math.SQRT2)),
};

function softmaxRows64(y, rows, cols) {
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, y[r * cols + c]);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += (y[r * cols + c] = Math.exp(y[r * cols + c] - max));
    for (let c = 0; c < cols; c++) y[r * cols + c] /= sum;
  }
  return y;
}

/** Forward pass in float64 over float32 weights. Returns the output and, for the last layer, the
 *  magnitude Σ|w·x| + |b| of each pre-activation (the scale of its float32 rounding error). */
function forward64(layers, x, batch) {
  let h = Float64Array.from(x);
  let mag = null;
  for (const l of layers) {
    const { inputs: K, units: N, weights: W, bias: b } = l;
    const y = new Float64Array(batch * N);
    mag = new Float64Array(batch * N);
    for (let m = 0; m < batch; m++) {
      for (let n = 0; n < N; n++) {
        let s = b[n], a = Math.abs(b[n]);
        const row = n * K, off = m * K;
        for (let k = 0; k < K; k++) {
          const p = W[row + k] * h[off + k];
          s += p; a += Math.abs(p);
        }
        y[m * N + n] = l.activation === 'relu' ? REF_ACT.relu(s) : s;
        mag[m * N + n] = a;
      }
    }
    if (l.activation === 'softmax') softmaxRows64(y, batch, N);
    h = y;
  }
  return { y: h, mag };
}

// ---------------------------------------------------------------- workloads

/**
 * One workload. Data and reference are built lazily and memoised (W1 4096² is 64 MiB of weights).
 * @typedef {object} Workload
 * @property {string} id            stable id used in the JSON ('dense-1024-b1', 'mlp-b32', 'ew-gelu')
 * @property {'W1'|'W2'|'W3'|'W4'} group
 * @property {'dense'|'mlp'|'elementwise'|'train'} kind
 * @property {string} title
 * @property {number} batch         rows per call (W3: 1)
 * @property {number} inputs        floats per input row (W3: all elements)
 * @property {number} outputs       floats per output row
 * @property {number} flops         2·in·out·batch summed over layers (W3: 0; W4: 3× the forward pass,
 *                                  the usual estimate of forward + backward)
 * @property {number} elements      W3: elements per call
 * @property {number} bytes         nominal memory traffic of one call (weights + input + output)
 * @property {number} workingSet    bytes touched per call (picks the bandwidth level of the roofline)
 * @property {string} [op]          W3: relu | sigmoid | tanh | gelu | softmax
 * @property {number} [cols]        W3 softmax: row length
 * @property {number[]} [shape]    W4: layer sizes, input first
 * @property {number} [batches]     W4: how many batches the timed steps cycle through
 * @property {() => {x: Float32Array, layers?: object[], labels?: Int32Array}} data
 *                                  W4: x holds `batches` batches back to back, labels one class per row
 * @property {() => {y: Float64Array, scale: Float64Array} | {loss0: number}} reference
 *                                  W4: loss0 = mean cross-entropy of batch 0 under the initial weights
 * @property {{atol: number, rtol: number}} tolerance  |y − ref| ≤ atol + rtol·scale
 */

const sharedMlp = {};
function mlpLayers() {
  if (!sharedMlp.layers) {
    const [a, b, c, d] = MLP_SHAPE;
    sharedMlp.layers = [
      denseLayer(a, b, 'relu', 'mlp:0'),
      denseLayer(b, c, 'relu', 'mlp:1'),
      denseLayer(c, d, 'softmax', 'mlp:2'),
    ];
  }
  return sharedMlp.layers;
}

// ---------------------------------------------------------------- cross-process cache
// Generating the data and the float64 reference takes ~1.5 s; every child process needs it. With
// BENCH_CACHE_DIR set (bench/run.mjs sets a fresh temporary folder per run), the first process to need a
// workload writes it there and the others map it back in.

const CACHE_DIR = process.env.BENCH_CACHE_DIR;

/** Serialise a tree of plain values and typed arrays: [u32 header length][JSON header][arrays, 8-aligned]. */
function pack(value) {
  const arrays = [];
  const header = JSON.stringify(value, (_, v) => {
    if (ArrayBuffer.isView(v)) { arrays.push(v); return { $ta: arrays.length - 1, type: v.constructor.name, length: v.length }; }
    return v;
  });
  const head = Buffer.from(header);
  let offset = Math.ceil((4 + head.length) / 8) * 8;
  const offsets = arrays.map((a) => { const o = offset; offset += Math.ceil(a.byteLength / 8) * 8; return o; });
  const out = Buffer.alloc(offset);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  arrays.forEach((a, i) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, offsets[i]));
  return out;
}

function unpack(buf) {
  const ab = buf.byteOffset % 8 === 0 ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const base = buf.byteOffset % 8 === 0 ? buf.byteOffset : 0;
  const len = buf.readUInt32LE(0);
  let offset = Math.ceil((4 + len) / 8) * 8;
  const types = { Float32Array, Float64Array, Int32Array };
  return JSON.parse(buf.toString('utf8', 4, 4 + len), (_, v) => {
    if (v && typeof v === 'object' && '$ta' in v) {
      const T = types[v.type];
      const a = new T(ab, base + offset, v.length);
      offset += Math.ceil(a.byteLength / 8) * 8;
      return a;
    }
    return v;
  });
}

function lazy(fn, key) {
  let v;
  return () => {
    if (v !== undefined) return v;
    if (!CACHE_DIR || !key) return (v = fn());
    const file = path.join(CACHE_DIR, `${key}.bin`);
    if (existsSync(file)) return (v = unpack(readFileSync(file)));
    v = fn();
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, pack(v));
    renameSync(tmp, file);
    return v;
  };
}

function denseWorkload(size) {
  const id = `dense-${size}-b1`;
  const data = lazy(() => ({
    layers: [denseLayer(size, size, 'relu', id)],
    x: uniform(size, -1, 1, `${id}:x`),
  }), `${id}.data`);
  const w = {
    id, group: 'W1', kind: 'dense', title: `dense ${size}² relu, b1`,
    threads: size >= 4096, // batch 1: predictAsync splits the layer's units between the threads
    batch: 1, inputs: size, outputs: size,
    flops: 2 * size * size,
    elements: size,
    bytes: 4 * (size * size + 3 * size),
    workingSet: 4 * (size * size + 3 * size),
    tolerance: { atol: 1e-6, rtol: 1e-4 },
    data,
    reference: lazy(() => {
      const { layers, x } = data();
      const { y, mag } = forward64(layers, x, 1);
      return { y, scale: mag };
    }, `${id}.ref`),
  };
  return w;
}

function mlpWorkload(batch) {
  const id = `mlp-b${batch}`;
  const [a, b, c, d] = MLP_SHAPE;
  const params = a * b + b + b * c + c + c * d + d;
  const data = lazy(() => ({ layers: mlpLayers(), x: uniform(batch * a, 0, 1, `${id}:x`) }), `${id}.data`);
  return {
    id, group: 'W2', kind: 'mlp', title: `MLP 784-512-256-10, b${batch}`,
    // The batched rows are also run on 2 (and 4) threads (bench/contenders/threads.mjs); batch 1024
    // only by simdnn and ONNX Runtime (the others take seconds per call there).
    threads: batch >= 256,
    ...(batch > 256 ? { onlyFor: ['simdnn-simd', 'simdnn-relaxed', 'ort-node', 'ort-web'] } : {}),
    batch, inputs: a, outputs: d,
    flops: 2 * batch * (a * b + b * c + c * d),
    elements: batch * d,
    bytes: 4 * (params + batch * (a + d)),
    workingSet: 4 * (params + batch * (a + b + c + d)),
    tolerance: { atol: 2e-5, rtol: 1e-3 },
    data,
    reference: lazy(() => {
      const { layers, x } = data();
      const { y } = forward64(layers, x, batch);
      return { y, scale: y.map(Math.abs) };
    }, `${id}.ref`),
  };
}

const EW_TOL = {
  relu: { atol: 0, rtol: 0 },
  sigmoid: { atol: 1e-6, rtol: 1e-5 },
  tanh: { atol: 1e-6, rtol: 1e-5 },
  gelu: { atol: 1e-6, rtol: 1e-5 },
  softmax: { atol: 1e-8, rtol: 1e-4 },
};

function elementwiseWorkload(op) {
  const n = ELEMENTWISE_N;
  const id = `ew-${op}`;
  // Inputs cover the interesting range of each function (saturation included).
  const data = lazy(() => ({ x: uniform(n, op === 'softmax' ? -10 : -8, op === 'softmax' ? 10 : 8, `ew:${op}`) }), `${id}.data`);
  return {
    id, group: 'W3', kind: 'elementwise', op, title: op === 'softmax' ? `softmax 1M (rows of ${SOFTMAX_COLS})` : `${op} 1M`,
    batch: 1, inputs: n, outputs: n, cols: op === 'softmax' ? SOFTMAX_COLS : undefined,
    flops: 0,
    elements: n,
    bytes: 8 * n,
    workingSet: 8 * n,
    tolerance: EW_TOL[op],
    data,
    reference: lazy(() => {
      const { x } = data();
      let y;
      if (op === 'softmax') y = softmaxRows64(Float64Array.from(x), n / SOFTMAX_COLS, SOFTMAX_COLS);
      else {
        const f = REF_ACT[op];
        y = new Float64Array(n);
        for (let i = 0; i < n; i++) y[i] = f(x[i]);
      }
      return { y, scale: y.map(Math.abs) };
    }, `${id}.ref`),
  };
}

function crossEntropy64(probs, labels, batch, classes) {
  let sum = 0;
  for (let m = 0; m < batch; m++) sum -= Math.log(probs[m * classes + labels[m]]);
  return sum / batch;
}

/**
 * W4: one training step (forward, softmax + cross-entropy, backward, Adam with PyTorch's defaults:
 * lr 1e-3, β 0.9/0.999, ε 1e-8) on `batch` rows. Every contender starts from the same He-uniform
 * weights and steps through the same TRAIN_BATCHES batches of random inputs and random labels.
 */
function trainWorkload(shape, batch, extra = {}) {
  const id = `train-${shape.join('-')}-b${batch}`;
  const inputs = shape[0], classes = shape.at(-1);
  const K = TRAIN_BATCHES;
  let forwardMacs = 0, params = 0, activations = 0;
  for (let i = 0; i + 1 < shape.length; i++) {
    forwardMacs += shape[i] * shape[i + 1];
    params += shape[i] * shape[i + 1] + shape[i + 1];
    activations += shape[i];
  }
  const data = lazy(() => {
    const r = rng(seedOf(`${id}:labels`));
    return {
      layers: shape.slice(1).map((units, i) =>
        denseLayer(shape[i], units, i === shape.length - 2 ? 'softmax' : 'relu', `${id}:${i}`)),
      x: uniform(K * batch * inputs, 0, 1, `${id}:x`),
      labels: Int32Array.from({ length: K * batch }, () => Math.floor(r() * classes)),
    };
  }, `${id}.data`);
  return {
    id, group: 'W4', kind: 'train', title: `train ${shape.join('-')}, b${batch}`,
    ...extra,
    batch, inputs, outputs: classes, shape, batches: K,
    flops: 3 * 2 * batch * forwardMacs,
    elements: batch,
    // Nominal traffic: parameters, their gradients and Adam's two moments, plus the batch.
    bytes: 4 * (4 * params + batch * (inputs + classes)),
    workingSet: 4 * (4 * params + 2 * batch * (activations + classes)),
    tolerance: { atol: 1e-5, rtol: 1e-4 },
    data,
    reference: lazy(() => {
      const { layers, x, labels } = data();
      const { y } = forward64(layers, x.subarray(0, batch * inputs), batch);
      return { loss0: crossEntropy64(y, labels, batch, classes) };
    }, `${id}.ref`),
  };
}

/** Every workload, in report order. */
export const WORKLOADS = [
  ...[64, 256, 1024, 4096].map(denseWorkload),
  ...[1, 32, 256, 1024].map(mlpWorkload),
  ...['relu', 'sigmoid', 'tanh', 'gelu', 'softmax'].map(elementwiseWorkload),
  trainWorkload([64, 128, 64, 10], 32),
  trainWorkload(MLP_SHAPE, 64),
  // fit on the worker pool (issue 12): one thread against 2 (and 4), simdnn only.
  trainWorkload(MLP_SHAPE, 128, { threads: true, onlyFor: ['simdnn-simd', 'simdnn-relaxed'] }),
];

export const WORKLOAD_BY_ID = Object.fromEntries(WORKLOADS.map((w) => [w.id, w]));

/** The model a start-up measurement builds: small, so the library's own start-up cost dominates. */
export const STARTUP_WORKLOAD_ID = 'dense-64-b1';

/**
 * Compare a contender's output with the float64 reference.
 * @returns {{ok: boolean, maxAbsErr: number, worstScore: number, worstIndex: number, message?: string}}
 *   worstScore is max |y − ref| / (atol + rtol·scale): ≤ 1 passes.
 */
export function check(workload, y) {
  const { y: ref, scale } = workload.reference();
  if (!(y instanceof Float32Array) && !(y instanceof Float64Array)) {
    return { ok: false, maxAbsErr: NaN, worstScore: Infinity, worstIndex: -1, message: `output is ${Object.prototype.toString.call(y)}, not a Float32Array` };
  }
  if (y.length !== ref.length) {
    return { ok: false, maxAbsErr: NaN, worstScore: Infinity, worstIndex: -1, message: `output has ${y.length} values, expected ${ref.length}` };
  }
  const { atol, rtol } = workload.tolerance;
  let maxAbsErr = 0, worstScore = 0, worstIndex = -1;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(y[i] - ref[i]);
    if (!(d <= Number.MAX_VALUE)) { // NaN or Infinity
      return { ok: false, maxAbsErr: NaN, worstScore: Infinity, worstIndex: i, message: `y[${i}] = ${y[i]}, reference ${ref[i]}` };
    }
    if (d > maxAbsErr) maxAbsErr = d;
    // relu is exact: any difference beyond float32 rounding of the reference is wrong.
    const allowed = atol + rtol * scale[i] + 2 ** -24 * Math.abs(ref[i]);
    const score = d === 0 ? 0 : d / allowed;
    if (score > worstScore) { worstScore = score; worstIndex = i; }
  }
  const ok = worstScore <= 1;
  return {
    ok, maxAbsErr, worstScore, worstIndex,
    message: ok ? undefined : `y[${worstIndex}] = ${y[worstIndex]}, reference ${ref[worstIndex]} (|err| ${Math.abs(y[worstIndex] - ref[worstIndex]).toExponential(2)} > atol ${atol} + rtol ${rtol}·${scale[worstIndex].toExponential(2)})`,
  };
}

/**
 * The training check. `losses` are TRAIN_CHECK_STEPS steps on batch 0 from the initial weights. Every
 * loss must be finite and the last below the first (the step descends); with `crossEntropy` (the
 * contender computes the workload's own loss) the first must also match the float64 loss of the
 * initial weights within the workload's tolerance. Contenders whose loss is another quantity
 * (brain.js: mean squared error of relu outputs) get only the finite-and-falling part.
 * @returns {{ok: boolean, maxAbsErr: number, worstScore: number, first: number, last: number, message?: string}}
 */
export function checkTraining(workload, losses, { crossEntropy = true } = {}) {
  const first = losses[0], last = losses.at(-1);
  const fail = (message) => ({ ok: false, maxAbsErr: NaN, worstScore: Infinity, first, last, losses, message });
  if (losses.length < 2) return fail(`${losses.length} losses, need at least 2`);
  const bad = losses.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) return fail(`loss at step ${bad + 1} is ${losses[bad]}`);
  let maxAbsErr = NaN, worstScore = 0;
  if (crossEntropy) {
    const { loss0 } = workload.reference();
    const { atol, rtol } = workload.tolerance;
    maxAbsErr = Math.abs(first - loss0);
    worstScore = maxAbsErr / (atol + rtol * Math.abs(loss0));
    if (!(worstScore <= 1)) return { ...fail(`first loss ${first}, float64 reference ${loss0} (|err| ${maxAbsErr.toExponential(2)} > atol ${atol} + rtol ${rtol}·|ref|)`), maxAbsErr, worstScore };
  }
  if (!(last < first)) return { ...fail(`loss did not fall over ${losses.length} steps on one batch: ${losses.map((v) => v.toPrecision(5)).join(' → ')}`), maxAbsErr, worstScore };
  return { ok: true, maxAbsErr, worstScore, first, last, losses };
}

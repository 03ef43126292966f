// Naive float64 oracles for every kernel. Deliberately simple and independent of the kernels:
// they follow the math definitions (ONNX operator semantics), not the implementation tricks.

/** erf by its Maclaurin series (|x| < 3) or the asymptotic continued fraction (|x| ≥ 3), in float64. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 1;
  if (x === -Infinity) return -1;
  const a = Math.abs(x);
  if (a < 3) {
    // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-18 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - erfcLarge(a));
}

/** erfc(a) for a ≥ 3 by Lentz's continued fraction (accurate in float64 there). */
export function erfcLarge(a: number): number {
  // erfc(a) = e^(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + 2/(a + …)))))
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}

/** Φ(x) = P(N(0,1) ≤ x) in float64, accurate in both tails. */
export function phi(x: number): number {
  const z = x / Math.SQRT2;
  if (z < -3) return 0.5 * erfcLarge(-z);
  if (z > 3) return 1 - 0.5 * erfcLarge(z);
  return 0.5 * (1 + erf(z));
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** x·g(x) with the limit 0 at x = −∞ where g(−∞) = 0. */
const times = (x: number, g: number) => (x === -Infinity ? 0 : x * g);

export const SELU_ALPHA = 1.67326319217681884765625;
export const SELU_GAMMA = 1.05070102214813232421875;

export interface RefParams { alpha?: number; beta?: number; gamma?: number; min?: number; max?: number; approximate?: string }

/** Float64 reference of one elementwise activation at x. */
export function refActivation(name: string, x: number, p: RefParams = {}): number {
  if (Number.isNaN(x)) return NaN;
  switch (name) {
    case 'linear': return x;
    case 'step': return x > 0 ? 1 : 0;
    case 'relu': return Math.max(0, x);
    case 'relu6': return Math.min(6, Math.max(0, x));
    case 'leakyRelu': return x < 0 ? (p.alpha ?? 0.01) * x : x;
    case 'elu': return x > 0 ? x : (p.alpha ?? 1) * Math.expm1(x);
    case 'selu': return (p.gamma ?? SELU_GAMMA) * (x > 0 ? x : (p.alpha ?? SELU_ALPHA) * Math.expm1(x));
    case 'celu': { const a = p.alpha ?? 1; return Math.max(0, x) + Math.min(0, a * Math.expm1(x / a)); }
    case 'gelu':
      if (p.approximate === 'tanh') {
        const u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
        return times(x, 0.5 * (1 + Math.tanh(u)));
      }
      return times(x, phi(x));
    case 'silu': return times(x, sigmoid(x));
    case 'mish': return times(x, Math.tanh(softplus(x)));
    case 'sigmoid': return sigmoid(x);
    case 'hardSigmoid': return Math.max(0, Math.min(1, (p.alpha ?? 0.2) * x + (p.beta ?? 0.5)));
    case 'hardSwish': return times(x, Math.max(0, Math.min(1, x / 6 + 0.5)));
    case 'tanh': return Math.tanh(x);
    case 'softplus': return softplus(x);
    case 'softsign': return Number.isFinite(x) ? x / (1 + Math.abs(x)) : Math.sign(x);
    case 'thresholdedRelu': return x > (p.alpha ?? 1) ? x : 0;
    case 'clip': return Math.min(p.max ?? Infinity, Math.max(p.min ?? -Infinity, x));
    case 'exp': return Math.exp(x);
    case 'erf': return erf(x);
    case 'sign': return x === 0 ? x : Math.sign(x);
    default: throw new Error(`no reference for ${name}`);
  }
}

/** Float64 softmax / log-softmax of each row of `cols`. */
export function refSoftmax(x: ArrayLike<number>, cols: number, log = false): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r * cols < x.length; r++) {
    let m = -Infinity;
    let nan = false;
    for (let j = 0; j < cols; j++) { const v = x[r * cols + j]!; if (Number.isNaN(v)) nan = true; m = Math.max(m, v); }
    let s = 0;
    if (m === Infinity) {
      let count = 0;
      for (let j = 0; j < cols; j++) if (x[r * cols + j] === Infinity) count++;
      for (let j = 0; j < cols; j++) {
        const v = nan ? NaN : x[r * cols + j] === Infinity ? 1 / count : 0;
        out[r * cols + j] = log ? Math.log(v) : v;
      }
      continue;
    }
    for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j]! - m);
    for (let j = 0; j < cols; j++) {
      const d = x[r * cols + j]! - m;
      out[r * cols + j] = log ? d - Math.log(s) : Math.exp(d) / s;
    }
  }
  return out;
}

/** Float64 dense layer: y[m][n] = act(Σ_k x[m][k]·w[n][k] + b[n]); w is [N][K] (out-in). */
export function refDense(
  x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | undefined,
  M: number, K: number, N: number, act: (v: number) => number = (v) => v,
): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = b ? b[n]! : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k]! * w[n * K + k]!;
      y[m * N + n] = act(s);
    }
  }
  return y;
}

/** Deterministic pseudo-random floats in [lo, hi) (mulberry32), so failures replay. */
export function rand(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo));
  }
  return out;
}

/** Largest |a − r| / (abs + rel·|r|) over the arrays (≤ 1 means within tolerance). NaN must match
 *  NaN, infinities must match exactly. Returns the worst ratio and where. */
export function worst(actual: ArrayLike<number>, ref: ArrayLike<number>, abs: number, rel: number, inputs?: ArrayLike<number>) {
  let ratio = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const a = actual[i]!;
    const r = Math.fround(ref[i]!);
    let q: number;
    if (Number.isNaN(r) || Number.isNaN(a)) q = Number.isNaN(r) && Number.isNaN(a) ? 0 : Infinity;
    else if (!Number.isFinite(r) || !Number.isFinite(a)) q = a === r ? 0 : Infinity;
    else q = Math.abs(a - ref[i]!) / (abs + rel * Math.abs(ref[i]!));
    if (q > ratio) { ratio = q; at = i; }
  }
  return { ratio, at, input: at >= 0 && inputs ? inputs[at] : undefined, actual: at >= 0 ? actual[at] : undefined, expected: at >= 0 ? ref[at] : undefined };
}

// ---------------------------------------------------------------------------------------------
// Framework definitions in float64, for the spellings that mean something other than the ONNX
// operator of the same family (test/aliases.test.ts). Each is written from the framework's own
// definition, not from simdnn's spelling table.

/** Every framework's relu6: min(max(x, 0), 6). */
export const refRelu6 = (x: number) => Math.min(Math.max(x, 0), 6);

/** PyTorch hardsigmoid and Keras 3 hard_sigmoid (keras/src/backend/{jax,tensorflow,numpy}/nn.py): relu6(x + 3)/6. */
export const refHardsigmoidRelu6 = (x: number) => refRelu6(x + 3) / 6;

/** Keras 2 hard_sigmoid (tf.keras backend, TensorFlow ≤ 2.15): clip(0.2x + 0.5, 0, 1). */
export const refHardSigmoidKeras2 = (x: number) => Math.min(Math.max(0.2 * x + 0.5, 0), 1);

/** PyTorch hardswish, Keras 3 hard_silu / hard_swish: x·relu6(x + 3)/6 (limit 0 at −∞). */
export const refHardswish = (x: number) => (x === -Infinity ? 0 : (x * refRelu6(x + 3)) / 6);

/** PyTorch hardtanh(min_val = −1, max_val = 1), Keras 3 hard_tanh: x clamped to [min_val, max_val]. */
export const refHardtanh = (x: number, minVal = -1, maxVal = 1) => (x < minVal ? minVal : x > maxVal ? maxVal : x);

/** PyTorch leaky_relu(negative_slope) and Keras leaky_relu / LeakyReLU: x > 0 ? x : negative_slope·x. */
export const refLeakyRelu = (x: number, negativeSlope: number) => (x > 0 ? x : negativeSlope * x);

/** PyTorch threshold(threshold, value): x ≤ threshold ? value : x (NaN stays NaN, as in ATen). */
export const refThreshold = (x: number, threshold: number, value: number) => (x <= threshold ? value : x);

/**
 * PyTorch softplus(beta, threshold): x where βx > threshold, else (1/β)·ln(1 + e^(βx)). PyTorch
 * evaluates βx in the tensor's float32 for the switch, so the switch here compares fround(β)·x
 * rounded to float32 (at the boundary float64 would switch one float earlier or later). The value
 * itself is float64: (max(βx, 0) + ln(1 + e^(−|βx|)))/β, which never overflows.
 */
export function refSoftplusBeta(x: number, beta = 1, threshold = Infinity): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.fround(Math.fround(beta) * x) > threshold) return x;
  const z = beta * x;
  return (Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)))) / beta;
}

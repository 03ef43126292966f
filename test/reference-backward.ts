import { erf, refActivation } from './reference.js';

// Naive float64 oracles for the training kernels: the packed weight layout, the dense backward
// pass, the losses with their gradients and the optimizer steps. Written from the definitions
// (PyTorch's documented algorithms), deliberately independent of the kernels' tricks.

// ---------------------------------------------------------------------------------------------
// The packed layout of assembly/gemm.ts: panels of 8 units, [8 biases | K rows of 8 weights].

/** Floats in a packed [K, N] block. */
export const packedFloats = (K: number, N: number): number => Math.ceil(N / 8) * (8 + 8 * K);

/** Index of W[n][k] (k = -1: the bias b[n]) in a packed block. */
export function packedIndex(n: number, k: number, K: number): number {
  return (n >> 3) * (8 + 8 * K) + 8 * (k + 1) + (n & 7);
}

/** Pack W [N][K] and b [N] (float64 or float32 values) into a Float32Array block. */
export function pack(w: ArrayLike<number>, b: ArrayLike<number>, K: number, N: number): Float32Array {
  const out = new Float32Array(packedFloats(K, N));
  for (let n = 0; n < N; n++) {
    out[packedIndex(n, -1, K)] = b[n]!;
    for (let k = 0; k < K; k++) out[packedIndex(n, k, K)] = w[n * K + k]!;
  }
  return out;
}

/** W [N][K], b [N] and the padding lanes (units N..8⌈N/8⌉−1) of a packed block. */
export function unpack(packed: ArrayLike<number>, K: number, N: number): { w: Float64Array; b: Float64Array; padding: number[] } {
  const w = new Float64Array(N * K);
  const b = new Float64Array(N);
  const padding: number[] = [];
  for (let n = 0; n < Math.ceil(N / 8) * 8; n++) {
    for (let k = -1; k < K; k++) {
      const v = packed[packedIndex(n, k, K)]!;
      if (n >= N) padding.push(v);
      else if (k < 0) b[n] = v;
      else w[n * K + k] = v;
    }
  }
  return { w, b, padding };
}

// ---------------------------------------------------------------------------------------------
// Dense backward for Y = X·Wᵀ + b.

export interface DenseGrads {
  dx: Float64Array; dw: Float64Array; db: Float64Array;
  /** Σ|terms| of each entry: the scale of its float32 rounding error. */
  dxAbs: Float64Array; dwAbs: Float64Array; dbAbs: Float64Array;
}

/** dX = dY·W, dW = dYᵀ·X, db = Σ_m dY (float64), with the absolute sums of their terms. */
export function refDenseBackward(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, M: number, K: number, N: number): DenseGrads {
  const g: DenseGrads = {
    dx: new Float64Array(M * K), dw: new Float64Array(N * K), db: new Float64Array(N),
    dxAbs: new Float64Array(M * K), dwAbs: new Float64Array(N * K), dbAbs: new Float64Array(N),
  };
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const d = dy[m * N + n]!;
      g.db[n]! += d;
      g.dbAbs[n]! += Math.abs(d);
      for (let k = 0; k < K; k++) {
        g.dx[m * K + k]! += d * w[n * K + k]!;
        g.dxAbs[m * K + k]! += Math.abs(d * w[n * K + k]!);
        g.dw[n * K + k]! += d * x[m * K + k]!;
        g.dwAbs[n * K + k]! += Math.abs(d * x[m * K + k]!);
      }
    }
  }
  return g;
}

// ---------------------------------------------------------------------------------------------
// Losses: the mean loss and its exact gradient.

export interface LossRef { loss: number; grad: Float64Array }

const logSumExp = (z: ArrayLike<number>, from: number, cols: number): number => {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) m = Math.max(m, z[from + j]!);
  let s = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(z[from + j]! - m);
  return m + Math.log(s);
};

/** PyTorch cross_entropy(logits, labels, ignore_index=<any negative>, reduction='mean'). */
export function refSoftmaxCrossEntropy(z: ArrayLike<number>, labels: ArrayLike<number>, rows: number, cols: number): LossRef {
  const grad = new Float64Array(rows * cols);
  let count = 0;
  for (let r = 0; r < rows; r++) if (labels[r]! >= 0) count++;
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const t = labels[r]!;
    if (t < 0) continue;
    const lse = logSumExp(z, r * cols, cols);
    loss += lse - z[r * cols + t]!;
    for (let c = 0; c < cols; c++) grad[r * cols + c] = (Math.exp(z[r * cols + c]! - lse) - (c === t ? 1 : 0)) / count;
  }
  return { loss: loss / count, grad };
}

/** PyTorch cross_entropy(logits, probabilities, reduction='mean'): −Σ t·log_softmax(z), mean over rows. */
export function refSoftmaxCrossEntropyProbs(z: ArrayLike<number>, t: ArrayLike<number>, rows: number, cols: number): LossRef {
  const grad = new Float64Array(rows * cols);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const lse = logSumExp(z, r * cols, cols);
    let ts = 0;
    for (let c = 0; c < cols; c++) ts += t[r * cols + c]!;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      loss += t[i]! * (lse - z[i]!);
      grad[i] = (Math.exp(z[i]! - lse) * ts - t[i]!) / rows;
    }
  }
  return { loss: loss / rows, grad };
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** PyTorch binary_cross_entropy_with_logits(z, t, reduction='mean'). */
export function refSigmoidBce(z: ArrayLike<number>, t: ArrayLike<number>): LossRef {
  const n = z.length;
  const grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const x = z[i]!;
    loss += Math.max(x, 0) - x * t[i]! + Math.log1p(Math.exp(-Math.abs(x)));
    // σ(x) − t without cancelling at t = 1, x ≫ 0: −σ(−x) there.
    grad[i] = ((1 - t[i]!) * sigmoid(x) - t[i]! * sigmoid(-x)) / n;
  }
  return { loss: loss / n, grad };
}

/** PyTorch mse_loss(y, t, reduction='mean'). */
export function refMse(y: ArrayLike<number>, t: ArrayLike<number>): LossRef {
  const n = y.length;
  const grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const d = y[i]! - t[i]!;
    loss += d * d;
    grad[i] = (2 * d) / n;
  }
  return { loss: loss / n, grad };
}

/** PyTorch l1_loss(y, t, reduction='mean'), with its subgradient sign(0) = 0. */
export function refMae(y: ArrayLike<number>, t: ArrayLike<number>): LossRef {
  const n = y.length;
  const grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const d = y[i]! - t[i]!;
    loss += Math.abs(d);
    grad[i] = (Number.isNaN(d) ? NaN : Math.sign(d)) / n;
  }
  return { loss: loss / n, grad };
}

// ---------------------------------------------------------------------------------------------
// Optimizers: one step of PyTorch's documented algorithm, in float64, on Float64Array state.

export interface SgdOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

/** torch.optim.SGD, step t (1-based): the buffer starts as b = g at t = 1. */
export function refSgdStep(p: Float64Array, buf: Float64Array, grad: ArrayLike<number>, t: number, o: SgdOptions): void {
  const mu = o.momentum ?? 0;
  for (let i = 0; i < p.length; i++) {
    let g = grad[i]! + (o.weightDecay ?? 0) * p[i]!;
    if (mu !== 0) {
      buf[i] = t > 1 ? mu * buf[i]! + (1 - (o.dampening ?? 0)) * g : g;
      g = o.nesterov ? g + mu * buf[i]! : buf[i]!;
    }
    p[i]! -= o.lr * g;
  }
}

export interface AdamOptions { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; decoupled?: boolean }

/** torch.optim.Adam (decoupled: AdamW), step t (1-based). */
export function refAdamStep(p: Float64Array, m: Float64Array, v: Float64Array, grad: ArrayLike<number>, t: number, o: AdamOptions): void {
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? 0;
  for (let i = 0; i < p.length; i++) {
    let g = grad[i]!;
    if (o.decoupled) p[i]! *= 1 - o.lr * wd;
    else g += wd * p[i]!;
    m[i] = b1 * m[i]! + (1 - b1) * g;
    v[i] = b2 * v[i]! + (1 - b2) * g * g;
    const mHat = m[i]! / (1 - b1 ** t);
    const vHat = v[i]! / (1 - b2 ** t);
    p[i]! -= (o.lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}

export interface RmspropOptions { lr: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean }

/** torch.optim.RMSprop. */
export function refRmspropStep(
  p: Float64Array, sq: Float64Array, ga: Float64Array, buf: Float64Array, grad: ArrayLike<number>, o: RmspropOptions,
): void {
  const alpha = o.alpha ?? 0.99;
  const eps = o.eps ?? 1e-8;
  const mu = o.momentum ?? 0;
  for (let i = 0; i < p.length; i++) {
    const g = grad[i]! + (o.weightDecay ?? 0) * p[i]!;
    sq[i] = alpha * sq[i]! + (1 - alpha) * g * g;
    let variance = sq[i]!;
    if (o.centered) {
      ga[i] = alpha * ga[i]! + (1 - alpha) * g;
      variance -= ga[i]! * ga[i]!;
    }
    const d = Math.sqrt(variance) + eps;
    if (mu > 0) {
      buf[i] = mu * buf[i]! + g / d;
      p[i]! -= o.lr * buf[i]!;
    } else {
      p[i]! -= (o.lr * g) / d;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Activation derivatives: f'(x) in float64 from the definitions (checked against central finite
// differences of test/reference.ts's refActivation in test/train-kernels.test.ts). At a kink, the
// side PyTorch's autograd takes (relu'(0) = 0, clamp includes its ends, hardswish'(±3) = x/3 + ½).

export interface DerivParams { alpha?: number; beta?: number; gamma?: number; min?: number; max?: number; approximate?: string; threshold?: number }

const SELU_A = 1.67326319217681884765625;
const SELU_G = 1.05070102214813232421875;
const sig = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** act'(x) in float64. */
export function refActivationDerivative(name: string, x: number, p: DerivParams = {}): number {
  switch (name) {
    case 'linear': return 1;
    case 'step': case 'sign': return 0;
    case 'relu': return x > 0 ? 1 : 0;
    case 'relu6': return x > 0 && x < 6 ? 1 : 0;
    case 'leakyRelu': return x > 0 ? 1 : (p.alpha ?? 0.01);
    case 'elu': return x > 0 ? 1 : (p.alpha ?? 1) * Math.exp(x);
    case 'selu': return (p.gamma ?? SELU_G) * (x > 0 ? 1 : (p.alpha ?? SELU_A) * Math.exp(x));
    case 'celu': return x > 0 ? 1 : Math.exp(x / (p.alpha ?? 1));
    case 'gelu': {
      if (p.approximate === 'tanh') {
        const c = Math.sqrt(2 / Math.PI);
        const t = Math.tanh(c * (x + 0.044715 * x ** 3));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
      }
      return 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-x * x / 2)) / Math.sqrt(2 * Math.PI);
    }
    case 'silu': { const s = sig(x); return s * (1 + x * (1 - s)); }
    case 'mish': {
      const sp = x > 30 ? x : Math.log1p(Math.exp(x));
      const t = Math.tanh(sp);
      return t + x * (1 - t * t) * sig(x);
    }
    case 'sigmoid': { const s = sig(x); return s * (1 - s); }
    case 'hardSigmoid': { const a = p.alpha ?? 0.2; const u = a * x + (p.beta ?? 0.5); return u > 0 && u < 1 ? a : 0; }
    case 'hardSwish': return x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1;
    case 'tanh': { const t = Math.tanh(x); return 1 - t * t; }
    case 'softplus': { const b = p.beta ?? 1; return b * x > (p.threshold ?? Infinity) ? 1 : sig(b * x); }
    case 'softsign': return 1 / (1 + Math.abs(x)) ** 2;
    case 'thresholdedRelu': return x > (p.alpha ?? 1) ? 1 : 0;
    case 'clip': return x >= (p.min ?? -Infinity) && x <= (p.max ?? Infinity) ? 1 : 0;
    case 'exp': return Math.exp(x);
    case 'erf': return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
    default: throw new Error(`no reference derivative for ${name}`);
  }
}

/** PReLU's input gradient: dy where x > 0, slope·dy elsewhere. */
export function refPreluBackward(dy: ArrayLike<number>, x: ArrayLike<number>, slope: ArrayLike<number>): Float64Array {
  const out = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) out[i] = x[i]! > 0 ? dy[i]! : slope[i % slope.length]! * dy[i]!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// A whole Sequential model in float64: forward, loss and mean gradients per dense layer.

export interface RefActivation { name: string; p?: DerivParams & { slope?: ArrayLike<number> } }
export interface RefLayer {
  type: 'dense' | 'activation' | 'dropout'; K: number; N: number; w?: ArrayLike<number>; b?: ArrayLike<number>; act: RefActivation;
  /** dropout: the multiplier of each element (B × N: 0 or 1/(1 − rate)); absent: the identity. */
  mask?: ArrayLike<number>;
}

/** Inverted dropout's mask as assembly/dropout.ts defines it, written from the definition:
 *  element i is kept (multiplier 1/(1 − rate), as float32) when mix(mix(i) ^ seed) ≥ ⌊rate·2³²⌋,
 *  mix = lowbias32; otherwise its multiplier is 0. */
export function refDropoutMask(n: number, seed: number, rate: number): Float64Array {
  const mix = (x: number) => {
    x = (x ^ (x >>> 16)) >>> 0;
    x = Number((BigInt(x) * 0x7feb352dn) & 0xffffffffn);
    x = (x ^ (x >>> 15)) >>> 0;
    x = Number((BigInt(x) * 0x846ca68bn) & 0xffffffffn);
    return (x ^ (x >>> 16)) >>> 0;
  };
  const threshold = Math.min(2 ** 32 - 1, Math.floor(rate * 2 ** 32));
  const scale = Math.fround(1 / (1 - rate));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mix((mix(i) ^ seed) >>> 0) >= threshold ? scale : 0;
  return out;
}
export type RefLoss = 'mse' | 'mae' | 'crossEntropy' | 'binaryCrossEntropy';

/** act(x) in float64, with softplus' β/threshold and PReLU's per-unit slope (unit j). */
export function refActivationForward(a: RefActivation, x: number, j: number): number {
  const p = a.p ?? {};
  if (a.name === 'prelu') return x > 0 ? x : p.slope![j % p.slope!.length]! * x;
  if (a.name === 'softplus' && p.beta !== undefined) {
    const bx = p.beta * x;
    return bx > (p.threshold ?? Infinity) ? x : Math.log1p(Math.exp(bx)) / p.beta;
  }
  return refActivation(a.name, x, p);
}

function refActivationDeriv(a: RefActivation, x: number, j: number): number {
  const p = a.p ?? {};
  if (a.name === 'prelu') return x > 0 ? 1 : p.slope![j % p.slope!.length]!;
  return refActivationDerivative(a.name, x, p);
}

const SOFTMAX = new Set(['softmax', 'logSoftmax']);

export interface RefModelResult {
  loss: number;
  output: Float64Array;
  grads: Array<{ w: Float64Array; b: Float64Array }>;
  /** Per layer: the mean gradient of its prelu slopes (as many as it has), or undefined. */
  slopes: Array<Float64Array | undefined>;
}

/** Forward, loss and mean parameter gradients of a model over B rows. Targets: class indices
 *  (crossEntropy) or B × outputs values. Softmax/logSoftmax at the end with crossEntropy, and
 *  sigmoid with binaryCrossEntropy, are fused: the loss reads the logits. */
export function refModel(layers: readonly RefLayer[], x: ArrayLike<number>, targets: ArrayLike<number>, B: number, loss: RefLoss, labels: boolean): RefModelResult {
  const zs: Float64Array[] = [];
  const ins: Float64Array[] = [];
  let a: Float64Array = Float64Array.from(x);
  for (const l of layers) {
    ins.push(a);
    let z: Float64Array;
    if (l.type === 'dense') {
      z = new Float64Array(B * l.N);
      for (let m = 0; m < B; m++) {
        for (let n = 0; n < l.N; n++) {
          let s = l.b ? l.b[n]! : 0;
          for (let k = 0; k < l.K; k++) s += a[m * l.K + k]! * l.w![n * l.K + k]!;
          z[m * l.N + n] = s;
        }
      }
    } else z = a;
    zs.push(z);
    let y: Float64Array;
    if (l.type === 'dropout') {
      y = l.mask ? z.map((v, j) => v * l.mask![j]!) : z;
    } else if (SOFTMAX.has(l.act.name)) {
      y = new Float64Array(z.length);
      for (let m = 0; m < B; m++) {
        let mx = -Infinity;
        for (let n = 0; n < l.N; n++) mx = Math.max(mx, z[m * l.N + n]!);
        let s = 0;
        for (let n = 0; n < l.N; n++) s += Math.exp(z[m * l.N + n]! - mx);
        for (let n = 0; n < l.N; n++) {
          const v = z[m * l.N + n]! - mx - Math.log(s);
          y[m * l.N + n] = l.act.name === 'logSoftmax' ? v : Math.exp(v);
        }
      }
    } else y = z.map((v, i) => refActivationForward(l.act, v, i % l.N));
    a = y;
  }
  const last = layers[layers.length - 1]!;
  const C = last.N;
  const fused = (loss === 'crossEntropy' && SOFTMAX.has(last.act.name)) || (loss === 'binaryCrossEntropy' && last.act.name === 'sigmoid');
  const input = fused ? zs[zs.length - 1]! : a;
  const ref: LossRef =
    loss === 'crossEntropy' ? (labels ? refSoftmaxCrossEntropy(input, targets, B, C) : refSoftmaxCrossEntropyProbs(input, targets, B, C))
      : loss === 'binaryCrossEntropy' ? refSigmoidBce(input, targets)
        : loss === 'mse' ? refMse(input, targets) : refMae(input, targets);
  let g = ref.grad;
  const grads: Array<{ w: Float64Array; b: Float64Array }> = [];
  const slopes: Array<Float64Array | undefined> = layers.map(() => undefined);
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (l.type === 'dropout') {
      if (l.mask) g = g.map((v, j) => v * l.mask![j]!);
      continue;
    }
    if (!(i === layers.length - 1 && fused)) {
      if (SOFTMAX.has(l.act.name)) throw new Error('reference: softmax inside the model');
      const z = zs[i]!;
      if (l.act.name === 'prelu') {
        // ∂(slope·x)/∂slope = x where x ≤ 0 (x where the slope is used), summed over rows (and over
        // units for one shared slope)
        const P = l.act.p!.slope!.length;
        const ds = new Float64Array(P);
        g.forEach((v, j) => { if (!(z[j]! > 0)) ds[(j % l.N) % P]! += v * z[j]!; });
        slopes[i] = ds;
      }
      g = g.map((v, j) => v * refActivationDeriv(l.act, z[j]!, j % l.N));
    }
    if (l.type === 'dense') {
      const xin = ins[i]!;
      const r = refDenseBackward(g, xin, l.w!, B, l.K, l.N);
      grads.unshift({ w: r.dw, b: r.db });
      g = r.dx;
    }
  }
  return { loss: ref.loss, output: a, grads, slopes };
}

// Every accepted activation spelling means what its framework means. For each spelling (Keras,
// PyTorch, ONNX, scikit-learn and simdnn's own names), the runtime's result is compared with that
// framework's definition computed in float64: the table below is written from the frameworks'
// documentation and source (README.aliases.md cites them), not from simdnn's spelling table. Then:
// ambiguous spellings, spellings that differ only in case, prototype names, parameter objects read
// once, and softplus's β/threshold on this project's binary (the node-relaxed project runs this
// file on the FMA binary).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/node.js';
import { SimdnnError } from '../src/node.js';
import { ACTIVATION_ALIASES, ACTIVATION_NAMES } from '../src/activations.js';
import {
  SELU_ALPHA, SELU_GAMMA, phi, erf, rand, refHardSigmoidKeras2, refHardsigmoidRelu6, refHardswish, refHardtanh,
  refLeakyRelu, refRelu6, refSoftmax, refSoftplusBeta, refThreshold, worst,
} from './reference.js';
import { runtime, SIMD } from './runtime.js';
import { ACTIVATION_TOLERANCE, EPS, SOFTMAX_TOLERANCE, LOG_SOFTMAX_TOLERANCE, type Tolerance } from './tolerances.js';

type Params = Record<string, unknown>;
interface Case {
  params?: Params;
  /** The framework's definition at x (elementwise), or the row function (softmax family). */
  ref?: (x: number) => number;
  row?: 'softmax' | 'logSoftmax';
  tol: Tolerance;
}

const T = ACTIVATION_TOLERANCE;
const tol = (name: string, scale = 1): Tolerance => ({ ...T[name]!, abs: T[name]!.abs * scale });
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const lnOnePlusExp = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** x·g with the limit 0 at x = −∞ (where g → 0). */
const times = (x: number, g: number) => (x === -Infinity ? 0 : x * g);
const elu = (alpha: number) => (x: number) => (x > 0 ? x : alpha * Math.expm1(x));
const celu = (alpha: number) => (x: number) => Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha));
const selu = (x: number) => SELU_GAMMA * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
const geluExact = (x: number) => times(x, phi(x));
const geluTanh = (x: number) => times(x, 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
const silu = (x: number) => times(x, sigmoid(x));
const mish = (x: number) => times(x, Math.tanh(lnOnePlusExp(x)));
const onnxHardSigmoid = (alpha: number, beta: number) => (x: number) => Math.max(0, Math.min(1, alpha * x + beta));
const softsign = (x: number) => (Number.isFinite(x) ? x / (1 + Math.abs(x)) : Math.sign(x));
const thresholded = (alpha: number) => (x: number) => (x > alpha ? x : 0);
const clip = (lo: number, hi: number) => (x: number) => Math.min(hi, Math.max(lo, x));
const sign = (x: number) => (x === 0 || Number.isNaN(x) ? x : Math.sign(x));
const prelu = (slope: number) => (x: number) => (x < 0 ? slope * x : x);

const LINEAR: Case[] = [{ ref: (x) => x, tol: T.linear! }];
const STEP: Case[] = [{ ref: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : 0), tol: T.step! }];
const RELU: Case[] = [{ ref: (x) => Math.max(0, x), tol: T.relu! }];
const RELU6: Case[] = [{ ref: refRelu6, tol: T.relu6! }];
const ONNX_LEAKY: Case[] = [
  { ref: (x) => (x < 0 ? 0.01 * x : x), tol: T.leakyRelu! },
  { params: { alpha: 0.2 }, ref: (x) => (x < 0 ? 0.2 * x : x), tol: T.leakyRelu! },
];
const PRELU: Case[] = [{ params: { slope: 0.25 }, ref: prelu(0.25), tol: T.prelu! }];
const ELU: Case[] = [{ ref: elu(1), tol: T.elu! }, { params: { alpha: 0.5 }, ref: elu(0.5), tol: T.elu! }];
const SELU: Case[] = [{ ref: selu, tol: T.selu! }];
const CELU: Case[] = [{ ref: celu(1), tol: T.celu! }, { params: { alpha: 2 }, ref: celu(2), tol: tol('celu', 2) }];
const GELU: Case[] = [
  { ref: geluExact, tol: T.gelu! },
  { params: { approximate: 'none' }, ref: geluExact, tol: T.gelu! },
  { params: { approximate: 'tanh' }, ref: geluTanh, tol: T.gelu! },
];
const SILU: Case[] = [{ ref: silu, tol: T.silu! }];
const MISH: Case[] = [{ ref: mish, tol: T.mish! }];
const SIGMOID: Case[] = [{ ref: sigmoid, tol: T.sigmoid! }];
const ONNX_HARD_SIGMOID: Case[] = [
  { ref: onnxHardSigmoid(0.2, 0.5), tol: tol('hardSigmoid', 1.5) },
  { params: { alpha: 0.5, beta: 0.25 }, ref: onnxHardSigmoid(0.5, 0.25), tol: tol('hardSigmoid', 1.25) },
];
const TORCH_HARDSIGMOID: Case[] = [{ ref: refHardsigmoidRelu6, tol: tol('hardSigmoid', 1.5) }];
const HARD_SWISH: Case[] = [{ ref: refHardswish, tol: T.hardSwish! }];
const TANH: Case[] = [{ ref: Math.tanh, tol: T.tanh! }];
/** ONNX and Keras softplus ln(1 + eˣ), and PyTorch's with its defaults β = 1, threshold = 20 (equal in float32). */
const SOFTPLUS: Case[] = [
  { ref: lnOnePlusExp, tol: T.softplus! },
  { ref: (x) => refSoftplusBeta(x, 1, 20), tol: T.softplus! },
  { params: { beta: 2 }, ref: (x) => refSoftplusBeta(x, 2, 20), tol: T.softplus! },
  { params: { beta: 0.5, threshold: 3 }, ref: (x) => refSoftplusBeta(x, 0.5, 3), tol: T.softplus! },
];
const SOFTSIGN: Case[] = [{ ref: softsign, tol: T.softsign! }];
const THRESHOLDED: Case[] = [
  { ref: thresholded(1), tol: T.thresholdedRelu! },
  { params: { alpha: 0.5 }, ref: thresholded(0.5), tol: T.thresholdedRelu! },
];
const CLIP: Case[] = [
  { ref: (x) => x, tol: T.clip! },
  { params: { min: -1, max: 2 }, ref: clip(-1, 2), tol: T.clip! },
];
const HARDTANH: Case[] = [
  { ref: (x) => refHardtanh(x), tol: T.clip! },
  { params: { min_val: -2, max_val: 0.5 }, ref: (x) => refHardtanh(x, -2, 0.5), tol: T.clip! },
  { params: { min: -0.25 }, ref: (x) => refHardtanh(x, -0.25, 1), tol: T.clip! },
];
const EXP: Case[] = [{ ref: Math.exp, tol: T.exp! }];
const ERF: Case[] = [{ ref: erf, tol: T.erf! }];
const SIGN: Case[] = [{ ref: sign, tol: T.sign! }];
const SOFTMAX: Case[] = [{ row: 'softmax', tol: SOFTMAX_TOLERANCE }];
const LOG_SOFTMAX: Case[] = [{ row: 'logSoftmax', tol: LOG_SOFTMAX_TOLERANCE }];
const withDim = (cases: Case[], key: 'dim' | 'axis') => [...cases, { ...cases[0]!, params: { [key]: -1 } }];

/** Every accepted spelling → its framework's definition (with parameters where it takes them). */
const SPELLINGS: Record<string, Case[]> = {
  // simdnn's canonical names (ONNX semantics) and its older aliases
  linear: LINEAR, none: LINEAR, step: STEP, heaviside: STEP, relu: RELU, relu6: RELU6, leakyRelu: ONNX_LEAKY,
  prelu: [...PRELU, { params: { weight: 0.5 }, ref: prelu(0.5), tol: T.prelu! }],
  elu: ELU, selu: SELU, celu: CELU,
  // Keras and tf.keras spell approximate as a bool; 'gelu' is also Keras's activation string
  gelu: [...GELU, { params: { approximate: true }, ref: geluTanh, tol: T.gelu! }, { params: { approximate: false }, ref: geluExact, tol: T.gelu! }],
  silu: SILU, mish: MISH, sigmoid: SIGMOID, hardSigmoid: ONNX_HARD_SIGMOID, hardSwish: HARD_SWISH, tanh: TANH,
  softplus: SOFTPLUS, softsign: SOFTSIGN, thresholdedRelu: THRESHOLDED, clip: CLIP, exp: EXP, erf: ERF, sign: SIGN,
  softmax: withDim(SOFTMAX, 'axis'), logSoftmax: LOG_SOFTMAX,
  // ONNX operators (GUIDE §4)
  Relu: RELU, LeakyRelu: ONNX_LEAKY, PRelu: PRELU, Elu: ELU, Selu: SELU, Celu: CELU, Gelu: GELU, Mish: MISH,
  Sigmoid: SIGMOID, HardSigmoid: ONNX_HARD_SIGMOID, HardSwish: HARD_SWISH, Tanh: TANH, Softplus: SOFTPLUS,
  Softsign: SOFTSIGN, ThresholdedRelu: THRESHOLDED, Clip: CLIP, Exp: EXP, Erf: ERF, Sign: SIGN,
  Softmax: withDim(withDim(SOFTMAX, 'axis'), 'dim'), LogSoftmax: withDim(LOG_SOFTMAX, 'dim'), Identity: LINEAR,
  // PyTorch: torch.nn modules and torch.nn.functional
  ReLU: RELU, ReLU6: RELU6, PReLU: [{ params: { weight: 0.25 }, ref: prelu(0.25), tol: T.prelu! }], ELU: ELU, SELU: SELU,
  CELU: CELU, GELU: GELU, SiLU: SILU,
  hardsigmoid: TORCH_HARDSIGMOID, Hardsigmoid: TORCH_HARDSIGMOID, hardswish: HARD_SWISH, Hardswish: HARD_SWISH,
  hardtanh: HARDTANH, Hardtanh: HARDTANH,
  leaky_relu: [
    { params: { negative_slope: 0.01 }, ref: (x) => refLeakyRelu(x, 0.01), tol: T.leakyRelu! }, // PyTorch's default
    { params: { negative_slope: 0.2 }, ref: (x) => refLeakyRelu(x, 0.2), tol: T.leakyRelu! }, // Keras 3's default
    { params: { alpha: 0.1 }, ref: (x) => refLeakyRelu(x, 0.1), tol: T.leakyRelu! },
  ],
  LeakyReLU: [
    { params: { negative_slope: 0.01 }, ref: (x) => refLeakyRelu(x, 0.01), tol: T.leakyRelu! }, // PyTorch's default
    { params: { alpha: 0.3 }, ref: (x) => refLeakyRelu(x, 0.3), tol: T.leakyRelu! }, // tf.keras's default
  ],
  threshold: [{ params: { threshold: 0.5, value: 0 }, ref: (x) => refThreshold(x, 0.5, 0), tol: T.thresholdedRelu! }],
  Threshold: [{ params: { threshold: -1, value: 0 }, ref: (x) => refThreshold(x, -1, 0), tol: T.thresholdedRelu! }],
  log_softmax: withDim(LOG_SOFTMAX, 'dim'),
  // Keras
  swish: SILU, hard_silu: HARD_SWISH, hard_swish: HARD_SWISH,
  hard_sigmoid: [
    { params: { alpha: 1 / 6 }, ref: refHardsigmoidRelu6, tol: tol('hardSigmoid', 1.5) }, // Keras 3
    { params: { alpha: 0.2 }, ref: refHardSigmoidKeras2, tol: tol('hardSigmoid', 1.5) }, // Keras 2 (tf.keras)
  ],
  hard_tanh: [{ ref: (x) => refHardtanh(x), tol: T.clip! }], exponential: EXP,
  ThresholdedReLU: [{ ref: thresholded(1), tol: T.thresholdedRelu! }, { params: { theta: 0.25 }, ref: thresholded(0.25), tol: T.thresholdedRelu! }],
  // scikit-learn MLPClassifier / MLPRegressor
  identity: LINEAR, logistic: SIGMOID,
};

const SIZES = [0, 1, 3, 4, 5, 7, 17, 1023];
const SPECIALS = [NaN, Infinity, -Infinity, 1e30, -1e30, 3.4e38, -3.4e38, -0, 1e-40, -1e-40, 88.5, -88.5, 20.5, -20.5, 3, -3, 6, 1];

/** n values: random in [−8, 8) with the special values spread over them. */
function values(n: number, seed: number): Float32Array {
  const x = rand(n, seed, -8, 8);
  for (let i = 0; i < n; i += 3) x[i] = SPECIALS[(i / 3 + seed) % SPECIALS.length]!;
  return x;
}

/** A sweep over the range: the special values, a log sweep of magnitudes and a grid on [−30, 30]. */
function sweep(): Float32Array {
  const v = [...SPECIALS];
  for (let e = -40; e <= 38; e += 0.25) v.push(10 ** e, -(10 ** e));
  for (let x = -30; x <= 30; x += 1 / 32) v.push(x);
  return Float32Array.from(v);
}

function expected(c: Case, x: Float32Array): ArrayLike<number> {
  if (c.row) return refSoftmax(x, x.length, c.row === 'logSoftmax');
  return Array.from(x, (v) => (Number.isNaN(v) ? NaN : c.ref!(v)));
}

function check(label: string, y: Float32Array, ref: ArrayLike<number>, c: Case, x: Float32Array) {
  expect(y.length, label).toBe(ref.length);
  if (c.tol.exact) {
    for (let i = 0; i < y.length; i++) {
      const r = Math.fround(ref[i]!);
      if (!(Object.is(y[i], r) || (r === 0 && y[i] === 0) || (Number.isNaN(r) && Number.isNaN(y[i])))) {
        expect.fail(`${label}(${x[i]}) = ${y[i]}, expected ${r}`);
      }
    }
    return;
  }
  const w = worst(y, ref, c.tol.abs, c.tol.rel, x);
  expect(w.ratio, `${label}(${w.input}) = ${w.actual}, expected ${w.expected}`).toBeLessThanOrEqual(1);
}

const describeCase = (spelling: string, c: Case) => `'${spelling}'${c.params ? ' ' + JSON.stringify(c.params) : ''}`;

let nn: Runtime;
beforeAll(async () => {
  nn = await runtime();
});

/** The error a call throws (fails the test if it returns). */
function thrown(fn: () => unknown): SimdnnError {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(SimdnnError);
    return err as SimdnnError;
  }
  return expect.fail('expected a SimdnnError');
}

describe(`activation spellings mean their framework's function (${SIMD} binary)`, () => {
  it('every accepted spelling is in this table, and nothing else', () => {
    expect(Object.keys(SPELLINGS).sort()).toEqual([...ACTIVATION_NAMES, ...ACTIVATION_ALIASES].sort());
  });

  for (const [spelling, cases] of Object.entries(SPELLINGS)) {
    for (const c of cases) {
      const label = describeCase(spelling, c);
      it(`${label}: sizes ${SIZES.join(',')} with NaN, ±Infinity and large values; spec form and method form`, () => {
        for (const n of SIZES) {
          const x = values(n, n + 1);
          const ref = expected(c, x);
          check(`${label} n=${n}`, nn.activate({ name: spelling, ...c.params } as never, x), ref, c, x);
          if (c.params) check(`${label} n=${n} (params)`, nn.activate(spelling as never, x, c.params as never), ref, c, x);
        }
      });
      if (c.row) continue;
      it(`${label}: the range (±1e-40 … ±3.4e38, a grid on [−30, 30]) through activate and a dense layer`, () => {
        const x = sweep();
        const ref = expected(c, x);
        check(label, nn.activate({ name: spelling, ...c.params } as never, x), ref, c, x);
        // A 1 → 1 dense layer with weight 1 passes x through exactly (−0 becomes +0: the bias is +0),
        // then applies the activation in the fused epilogue: batches of 1 (matrix–vector) and many.
        const xs = x.map((v) => (Object.is(v, -0) ? 0 : v));
        const model = nn.dense({ inputs: 1, units: 1, weights: [1], activation: { name: spelling, ...c.params } as never });
        try {
          check(`${label} in a dense layer`, model.predict(xs, xs.length), expected(c, xs), c, xs);
          check(`${label} in a dense layer, batch 1`, model.predict(xs.subarray(0, 1), 1), expected(c, xs.subarray(0, 1)), c, xs);
        } finally {
          model.dispose();
        }
      });
    }
  }
});

describe('names that used to mean something else', () => {
  const x = Float32Array.of(-4, -2, -1, -0.5, 0, 0.5, 1, 2, 4);
  it("PyTorch 'hardtanh' / 'Hardtanh' clip to [−1, 1] (they were the identity)", () => {
    for (const s of ['hardtanh', 'Hardtanh', 'hard_tanh']) expect(Array.from(nn.activate(s as never, x)), s).toEqual([-1, -1, -1, -0.5, 0, 0.5, 1, 1, 1]);
  });
  it("PyTorch 'hardsigmoid' is relu6(x + 3)/6, ONNX 'HardSigmoid' and simdnn 'hardSigmoid' 0.2x + 0.5", () => {
    expect(Array.from(nn.activate('Hardsigmoid' as never, Float32Array.of(-3, 0, 1.5, 3)))).toEqual([0, 0.5, 0.75, 1]);
    expect(Array.from(nn.activate('HardSigmoid', Float32Array.of(-2.5, 0, 2.5)))).toEqual([0, 0.5, 1]);
    expect(Array.from(nn.activate('hardSigmoid', Float32Array.of(-2.5, 0, 2.5)))).toEqual([0, 0.5, 1]);
  });
  it("scikit-learn's 'logistic' is the sigmoid and 'identity' is linear", () => {
    expect(Array.from(nn.activate('logistic' as never, x))).toEqual(Array.from(nn.sigmoid(x)));
    expect(Array.from(nn.activate('identity' as never, x))).toEqual(Array.from(x));
  });
  it('a model spec keeps the function under the canonical name and its parameters', () => {
    const model = nn.dense({ inputs: 1, units: 1, weights: [1], activation: 'Hardsigmoid' as never });
    try {
      expect(model.layers[0]!.activation).toBe('hardSigmoid');
      expect(Array.from(model.predict(Float32Array.of(1.5, -3, 3), 3))).toEqual([0.75, 0, 1]);
    } finally {
      model.dispose();
    }
  });
});

describe('ambiguous spellings and near-spellings', () => {
  const x = Float32Array.of(-1, 0, 1);
  for (const [spelling, pattern] of [
    ['hard_sigmoid', /'hard_sigmoid' is ambiguous: Keras 3 .* x\/6 \+ 1\/2, Keras 2 .* 0\.2x \+ 0\.5.*pass \{ alpha: 1\/6 \} or \{ alpha: 0\.2 \}/],
    ['leaky_relu', /'leaky_relu' is ambiguous: PyTorch's leaky_relu defaults to negative_slope 0\.01, Keras 3's to 0\.2; pass \{ negative_slope \}/],
    ['LeakyReLU', /'LeakyReLU' is ambiguous: PyTorch's nn\.LeakyReLU defaults to negative_slope 0\.01, Keras's LeakyReLU layer to 0\.3/],
  ] as const) {
    it(`'${spelling}' without its deciding parameter is INVALID_PARAMETER, saying what each framework means`, () => {
      for (const call of [() => nn.activate(spelling as never, x), () => nn.activate({ name: spelling } as never, x),
        () => nn.dense({ inputs: 1, units: 1, weights: [1], activation: spelling as never })]) {
        const err = thrown(call);
        expect(err.code).toBe('INVALID_PARAMETER');
        expect(err.message).toMatch(pattern);
      }
    });
  }

  it('a spelling that differs from exact ones only in case or separators resolves when they all mean one function', () => {
    const y = Float32Array.of(-2, -0.5, 0.5, 2);
    expect(Array.from(nn.activate('RELU' as never, y))).toEqual([0, 0, 0.5, 2]);
    expect(Array.from(nn.activate('HardTanh' as never, y))).toEqual([-1, -0.5, 0.5, 1]);
    expect(Array.from(nn.activate('Log_Softmax' as never, y))).toEqual(Array.from(nn.logSoftmax(y)));
    expect(Array.from(nn.activate('hard-swish' as never, y))).toEqual(Array.from(nn.hardSwish(y)));
  });

  it('and is UNKNOWN_ACTIVATION, listing the exact spellings, when they mean different functions', () => {
    for (const [spelling, pattern] of [
      ['HARDSIGMOID', /'hardSigmoid', 'HardSigmoid': .*0\.2.*'hardsigmoid', 'Hardsigmoid': .*x\/6 \+ 1\/2.*'hard_sigmoid'/],
      ['Hard_Sigmoid', /write one of them exactly/],
      ['LEAKY_RELU', /'leakyRelu', 'LeakyRelu': .*'leaky_relu': .*'LeakyReLU': /],
    ] as const) {
      const err = thrown(() => nn.activate(spelling as never, x));
      expect(err.code, spelling).toBe('UNKNOWN_ACTIVATION');
      expect(err.message, spelling).toMatch(pattern);
    }
  });
});

describe('parameters: framework names, one name per parameter, nothing ignored', () => {
  const x = Float32Array.of(-3, -1, 0, 1, 3);
  it("PyTorch's parameter names work on PyTorch's spellings, simdnn's on every spelling", () => {
    expect(Array.from(nn.activate({ name: 'Hardtanh', min_val: -2, max_val: 2 } as never, x))).toEqual([-2, -1, 0, 1, 2]);
    expect(Array.from(nn.activate({ name: 'Hardtanh', min: -2, max: 2 } as never, x))).toEqual([-2, -1, 0, 1, 2]);
    expect(Array.from(nn.activate('leaky_relu' as never, x, { negative_slope: 0.5 } as never))).toEqual([-1.5, -0.5, 0, 1, 3]);
  });

  it('two names for one parameter, an unknown name, or a name of another framework are INVALID_PARAMETER', () => {
    for (const [spec, pattern] of [
      [{ name: 'leaky_relu', negative_slope: 0.1, alpha: 0.2 }, /leaky_relu: 'negative_slope' and 'alpha' are two names for one parameter/],
      [{ name: 'Hardtanh', min_val: -2, min: -3 }, /'min_val' and 'min' are two names/],
      [{ name: 'leakyRelu', negative_slope: 0.1 }, /leakyRelu: unknown parameter 'negative_slope'; expected alpha/],
      [{ name: 'Hardsigmoid', alpha: 0.2 }, /Hardsigmoid: unknown parameter 'alpha'; expected no parameters/],
      [{ name: 'ReLU', max_value: 6 }, /ReLU: unknown parameter 'max_value'/],
      [{ name: 'Threshold', threshold: 1, value: 2 }, /Threshold: parameter 'value' must be 0 .*received number 2/],
      [{ name: 'Threshold', threshold: 1 }, /Threshold: PyTorch's Threshold has no defaults: pass \{ threshold, value: 0 \}/],
      [{ name: 'Softmax', dim: 0 }, /Softmax: parameter 'dim' must be -1 \(simdnn normalises the last axis\), received number 0/],
      [{ name: 'softplus', beta: 0 }, /softplus: parameter 'beta' must be positive, received number 0/],
      [{ name: 'softplus', beta: -1 }, /must be positive, received number -1/],
      [{ name: 'Softplus', threshold: NaN }, /Softplus: parameter 'threshold' must be a number, received number NaN/],
      [{ name: 'gelu', approximate: 'yes' }, /gelu: parameter 'approximate' must be 'none' or 'tanh', received string "yes"/],
    ] as const) {
      const err = thrown(() => nn.activate(spec as never, x));
      expect(err.code, JSON.stringify(spec)).toBe('INVALID_PARAMETER');
      expect(err.message).toMatch(pattern);
    }
  });

  it('a number where the parameters object goes names the fix', () => {
    const cases = [
      [() => nn.leakyRelu(x, 0.2 as never), /leakyRelu: parameters must be an object, received number 0\.2 \(parameters are an object: \{ alpha: 0\.2 \}\)/],
      [() => nn.activate('leaky_relu' as never, x, 0.2 as never), /parameters are an object: \{ negative_slope: 0\.2 \}/],
      [() => nn.gelu(x, 'tanh' as never), /parameters are an object: \{ approximate: 'tanh' \}/],
      [() => nn.activate('relu', x, 1 as never), /relu: parameters must be an object, received number 1 \(relu takes no parameters\)/],
      [() => nn.prelu(x, [0.1] as never), /prelu: parameters must be an object, received Array\(1\)/],
    ] as const;
    for (const [call, pattern] of cases) {
      const err = thrown(call);
      expect(err.code).toBe('INVALID_PARAMETER');
      expect(err.message).toMatch(pattern);
    }
  });
});

describe('prototype names are not activations or parameters', () => {
  const x = Float32Array.of(-1, 0, 1);
  const PROTO = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
  it('activate(<Object.prototype name>) is UNKNOWN_ACTIVATION, in every form', () => {
    for (const name of PROTO) {
      for (const call of [() => nn.activate(name as never, x), () => nn.activate({ name } as never, x),
        () => nn.dense({ inputs: 1, units: 1, weights: [1], activation: name as never })]) {
        const err = thrown(call);
        expect(err.code, name).toBe('UNKNOWN_ACTIVATION');
        expect(err.message, name).toMatch(/unknown activation/);
      }
    }
  });

  it('<Object.prototype name> as a parameter is INVALID_PARAMETER (own keys, JSON __proto__ included)', () => {
    for (const key of PROTO) {
      const params = JSON.parse(`{ "${key}": 1 }`) as object;
      expect(Object.keys(params)).toEqual([key]);
      for (const call of [
        () => nn.activate('leakyRelu', x, params as never),
        () => nn.activate(JSON.parse(`{ "name": "relu", "${key}": 1 }`) as never, x),
        () => nn.activate('softplus', x, params as never),
        () => nn.dense({ inputs: 1, units: 1, weights: [1], activation: JSON.parse(`{ "name": "elu", "${key}": 1 }`) as never }),
      ]) {
        const err = thrown(call);
        expect(err.code, key).toBe('INVALID_PARAMETER');
        expect(err.message, key).toContain(`unknown parameter '${key}'`);
      }
    }
  });
});

describe('parameter objects are read once', () => {
  const x = Float32Array.of(-2, -1, 0, 1);
  it('a getter is read once: the value validated is the value used', () => {
    let reads = 0;
    // Valid on the first read, invalid (1e39: Infinity in float32) on any later one.
    const params = { get alpha() { return ++reads === 1 ? 0.5 : 1e39; } };
    expect(Array.from(nn.leakyRelu(x, params))).toEqual([-1, -0.5, 0, 1]);
    expect(reads).toBe(1);
    let nameReads = 0;
    const spec = { get name() { return ++nameReads === 1 ? 'elu' : 'constructor'; }, alpha: 1 };
    expect(nn.activate(spec as never, x)[0]).toBeCloseTo(Math.expm1(-2), 6);
    expect(nameReads).toBe(1);
  });

  it('a Proxy sees each key read once, and the slope array once per element', () => {
    const gets: string[] = [];
    const target = { name: 'prelu', slope: [0.5, 0.25] };
    const slope = new Proxy([0.5, 0.25], { get: (t, k, r) => { gets.push(`slope.${String(k)}`); return Reflect.get(t, k, r); } });
    const spec = new Proxy({ ...target, slope }, { get: (t, k, r) => { gets.push(String(k)); return Reflect.get(t, k, r); } });
    expect(Array.from(nn.activate(spec as never, Float32Array.of(-4, -4, 1, 1)))).toEqual([-2, -1, 1, 1]);
    expect(gets.filter((g) => g === 'name')).toHaveLength(1);
    expect(gets.filter((g) => g === 'slope')).toHaveLength(1);
    expect(gets.filter((g) => g === 'slope.0')).toHaveLength(1);
    expect(gets.filter((g) => g === 'slope.length')).toHaveLength(1);
  });

  it('a getter or Proxy trap that throws surfaces as a SimdnnError carrying it, never a result', () => {
    const boom = new RangeError('boom');
    const throwing = { get alpha(): number { throw boom; } };
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    for (const call of [
      () => nn.leakyRelu(x, throwing),
      () => nn.activate({ name: 'leakyRelu', get alpha(): number { throw boom; } } as never, x),
      () => nn.activate({ get name(): string { throw boom; } } as never, x),
      () => nn.prelu(x, { slope: new Proxy([1], { get() { throw boom; } }) } as never),
      () => nn.activate('elu', x, revocable.proxy as never),
      () => nn.activate(revocable.proxy as never, x),
    ]) {
      const err = thrown(call);
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/threw (RangeError: boom|TypeError)/);
    }
    expect(thrown(() => nn.leakyRelu(x, throwing)).cause).toBe(boom);
  });
});

describe(`softplus β and threshold (PyTorch) on the ${SIMD} binary`, () => {
  const x = sweep();
  const BETAS = [1, 2, 0.5, 3, 10, 0.1, 1e-3];
  const THRESHOLDS = [Infinity, 20, 16, 5, 1, 0, -1];
  for (const beta of BETAS) {
    for (const threshold of THRESHOLDS) {
      it(`β = ${beta}, threshold = ${threshold}: whole range against float64, via activate and a dense layer`, () => {
        const c: Case = { ref: (v) => refSoftplusBeta(v, beta, threshold), tol: T.softplus! };
        const y = nn.activate('Softplus', x, { beta, threshold } as never);
        check(`softplus β=${beta} t=${threshold}`, y, expected(c, x), c, x);
        const model = nn.dense({ inputs: 1, units: 1, weights: [1], activation: { name: 'softplus', beta, threshold } as never });
        try {
          const xs = x.map((v) => (Object.is(v, -0) ? 0 : v));
          check(`softplus β=${beta} t=${threshold} in a dense layer`, model.predict(xs, xs.length), expected(c, xs), c, xs);
        } finally {
          model.dispose();
        }
      });
    }
  }

  it('NaN propagates, ±Infinity saturate, and large inputs never give NaN or Infinity for a finite result', () => {
    for (const beta of BETAS) {
      for (const threshold of THRESHOLDS) {
        const y = nn.activate('softplus', Float32Array.of(NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e30, -1e30), { beta, threshold } as never);
        const label = `β=${beta} t=${threshold}: ${Array.from(y)}`;
        expect(Number.isNaN(y[0]), label).toBe(true);
        expect(y[1], label).toBe(Infinity);
        expect(y[2], label).toBe(0);
        expect(y[3], label).toBe(Math.fround(3.4e38));
        expect(y[4], label).toBe(0);
        expect(y[5], label).toBe(Math.fround(1e30));
        expect(y[6], label).toBe(0);
      }
    }
  });

  it('the switch: x itself where βx > threshold, the smooth curve at or below it', () => {
    const y = nn.activate('softplus', Float32Array.of(0.99, 1, 1.01, 2), { beta: 2, threshold: 2 } as never);
    expect(y[0]).toBeCloseTo(Math.log1p(Math.exp(1.98)) / 2, 6);
    expect(y[1]).toBeCloseTo(Math.log1p(Math.exp(2)) / 2, 6);
    expect(y[2]).toBe(Math.fround(1.01));
    expect(y[3]).toBe(2);
  });

  it('the resolved parameters are reported under simdnn names, PyTorch defaults included', () => {
    const model = nn.dense({ inputs: 1, units: 1, weights: [1], activation: { name: 'Softplus', beta: 2 } as never });
    try {
      expect(model.layers[0]!.activation).toBe('softplus');
    } finally {
      model.dispose();
    }
  });
});

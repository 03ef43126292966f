// Recognising an activation written out as elementwise operations (GELU as Div/Erf/Add/Mul/Mul,
// SiLU as x·Sigmoid(x), Softsign as x/(1+|x|), …) by what it computes rather than by its shape:
// the subgraph is evaluated in float64 on a fixed set of probe points and compared with each
// parameter-free activation simdnn has. Operand order, association, Pow(x, 3) versus x·x·x and the
// float32 rounding of constants such as √2 or 0.044715 do not matter; a subgraph that computes
// something else matches nothing.

import type { ActivationSpec } from '../activations.js';

/** erf in float64: Maclaurin series for |x| < 3, continued fraction of erfc beyond (≤ 1e-13). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const v = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -v : v;
  }
  if (ax > 27) return x < 0 ? -1 : 1;
  // erfc x = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) evaluated by Lentz's method.
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    d = ax + a * d;
    d = d === 0 ? tiny : d;
    c = ax + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => (x > 30 ? x : Math.log1p(Math.exp(x)));
const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

/** Parameter-free activations (and fixed-parameter forms exporters write out), float64. */
export const CANDIDATES: ReadonlyArray<{ spec: ActivationSpec; f: (x: number) => number }> = [
  { spec: 'linear', f: (x) => x },
  { spec: 'relu', f: (x) => Math.max(0, x) },
  { spec: 'relu6', f: (x) => Math.min(6, Math.max(0, x)) },
  { spec: 'sigmoid', f: sigmoid },
  { spec: 'tanh', f: Math.tanh },
  { spec: 'silu', f: (x) => x * sigmoid(x) },
  { spec: { name: 'gelu', approximate: 'none' }, f: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)) },
  {
    spec: { name: 'gelu', approximate: 'tanh' },
    f: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  },
  { spec: 'mish', f: (x) => x * Math.tanh(softplus(x)) },
  { spec: 'hardSwish', f: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)) },
  { spec: { name: 'hardSigmoid', alpha: 1 / 6, beta: 0.5 }, f: (x) => Math.max(0, Math.min(1, x / 6 + 0.5)) },
  { spec: 'hardSigmoid', f: (x) => Math.max(0, Math.min(1, 0.2 * x + 0.5)) },
  { spec: 'softsign', f: (x) => x / (1 + Math.abs(x)) },
  { spec: 'softplus', f: softplus },
  { spec: 'elu', f: (x) => (x > 0 ? x : Math.expm1(x)) },
  { spec: 'selu', f: (x) => SELU_GAMMA * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)) },
  { spec: 'exp', f: Math.exp },
  { spec: 'erf', f: erf },
  { spec: 'sign', f: (x) => Math.sign(x) },
];

/** Probe points: a dense grid over [−8, 8], the kinks of the piecewise activations, large values. */
export const PROBES: Float64Array = (() => {
  const pts: number[] = [];
  for (let i = -128; i <= 128; i++) pts.push(i / 16);
  pts.push(-3.001, -2.999, 2.999, 3.001, 5.999, 6.001, 1e-3, -1e-3, 12, -12, 20, -20, 40, -40);
  return Float64Array.from(pts);
})();

let table: Float64Array[] | undefined;

/** Which candidate the probe values `y = f(PROBES)` match, or undefined. */
export function identify(y: Float64Array): ActivationSpec | undefined {
  table ??= CANDIDATES.map((c) => PROBES.map(c.f));
  let best: ActivationSpec | undefined;
  let bestErr = Infinity;
  for (let k = 0; k < CANDIDATES.length; k++) {
    const c = CANDIDATES[k]!;
    const values = table[k]!;
    let err = 0;
    for (let i = 0; i < PROBES.length && err <= 1e-5; i++) {
      const want = values[i]!;
      const got = y[i]!;
      const e = Number.isNaN(got) ? Infinity : Math.abs(got - want) / Math.max(1, Math.abs(want));
      if (e > err) err = e;
    }
    if (err < bestErr) {
      bestErr = err;
      best = c.spec;
    }
  }
  // Float32 constants (√2 ≈ 1.4142135, 1/6 ≈ 0.16666667, 0.044715) shift results by ~1e-7; the
  // nearest different candidates (gelu and its tanh form) differ by ~5e-4.
  return bestErr <= 1e-5 ? best : undefined;
}

/** Unary elementwise operators, float64, with their ONNX attributes. */
export function unary(op: string, attr: (name: string, dflt: number) => number): ((x: number) => number) | undefined {
  switch (op) {
    case 'Identity': case 'Dropout': return (x) => x;
    case 'Neg': return (x) => -x;
    case 'Abs': return Math.abs;
    case 'Sqrt': return Math.sqrt;
    case 'Exp': return Math.exp;
    case 'Log': return Math.log;
    case 'Reciprocal': return (x) => 1 / x;
    case 'Erf': return erf;
    case 'Tanh': return Math.tanh;
    case 'Sigmoid': return sigmoid;
    case 'Softplus': return softplus;
    case 'Softsign': return (x) => x / (1 + Math.abs(x));
    case 'Relu': return (x) => Math.max(0, x);
    case 'Sign': return Math.sign;
    case 'Floor': return Math.floor;
    case 'Ceil': return Math.ceil;
    case 'LeakyRelu': { const a = attr('alpha', 0.01); return (x) => (x < 0 ? a * x : x); }
    case 'Elu': { const a = attr('alpha', 1); return (x) => (x > 0 ? x : a * Math.expm1(x)); }
    case 'Celu': { const a = attr('alpha', 1); return (x) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a)); }
    case 'Selu': {
      const a = attr('alpha', SELU_ALPHA);
      const g = attr('gamma', SELU_GAMMA);
      return (x) => g * (x > 0 ? x : a * Math.expm1(x));
    }
    case 'HardSigmoid': {
      const a = attr('alpha', 0.2);
      const b = attr('beta', 0.5);
      return (x) => Math.max(0, Math.min(1, a * x + b));
    }
    case 'HardSwish': return (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case 'ThresholdedRelu': { const a = attr('alpha', 1); return (x) => (x > a ? x : 0); }
    case 'Mish': return (x) => x * Math.tanh(softplus(x));
    default: return undefined;
  }
}

/** Binary elementwise operators, float64. */
export function binary(op: string): ((a: number, b: number) => number) | undefined {
  switch (op) {
    case 'Add': return (a, b) => a + b;
    case 'Sub': return (a, b) => a - b;
    case 'Mul': return (a, b) => a * b;
    case 'Div': return (a, b) => a / b;
    case 'Pow': return Math.pow;
    case 'Max': return Math.max;
    case 'Min': return Math.min;
    default: return undefined;
  }
}

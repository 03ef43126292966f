import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import type { ActivationName, Runtime } from '../src/node.js';
import { refActivation, worst, rand, type RefParams } from './reference.js';
import { runtime, SIMD } from './runtime.js';
import { ACTIVATION_TOLERANCE, EPS } from './tolerances.js';
import { ACTIVATION_NAMES } from '../src/activations.js';
import { ELEMENTWISE_ACTIVATIONS } from '../src/activation-table.js';

const SIZES = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1023];

interface Case { name: ActivationName; params?: RefParams; abs: number; rel: number; exact?: boolean | undefined }

// Tolerances: |actual − ref| ≤ abs + rel·|ref| against the float64 reference, over the whole float range.
// Every elementwise activation of the list (assembly/activations.json) with its default parameters,
// then cases with other parameters: an activation added to the list is tested here at once (and
// fails until it has a reference in reference.ts and a tolerance in tolerances.ts).
const DEFAULTS: Case[] = ACTIVATION_NAMES.filter((n) => ELEMENTWISE_ACTIVATIONS.has(n)).map((name) => {
  const tol = ACTIVATION_TOLERANCE[name];
  if (!tol) throw new Error(`${name}: no tolerance in test/tolerances.ts`);
  return { name, ...tol };
});
const WITH_PARAMS: Case[] = [
  { name: 'leakyRelu', params: { alpha: 0.2 }, ...ACTIVATION_TOLERANCE.leakyRelu! },
  { name: 'elu', params: { alpha: 0.5 }, ...ACTIVATION_TOLERANCE.elu! },
  { name: 'celu', params: { alpha: 2 }, ...ACTIVATION_TOLERANCE.celu! },
  { name: 'gelu', params: { approximate: 'tanh' }, ...ACTIVATION_TOLERANCE.gelu! },
  { name: 'hardSigmoid', params: { alpha: 0.5, beta: 0.25 }, ...ACTIVATION_TOLERANCE.hardSigmoid! },
  { name: 'thresholdedRelu', params: { alpha: 0.5 }, ...ACTIVATION_TOLERANCE.thresholdedRelu! },
  { name: 'clip', params: { min: -1, max: 2 }, ...ACTIVATION_TOLERANCE.clip! },
];
const CASES: Case[] = [...DEFAULTS, ...WITH_PARAMS];

/** The whole float range: a log sweep of magnitudes (subnormals to 3.4e38) of both signs, a dense
 *  grid over [−30, 30] where the functions bend, and the special values. */
function sweep(): Float32Array {
  const v: number[] = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-40, -1e-40, 1e30, -1e30, 3.4e38, -3.4e38];
  for (let e = -45; e <= 38; e += 0.05) v.push(10 ** e, -(10 ** e));
  for (let x = -30; x <= 30; x += 1 / 256) v.push(x);
  for (const c of [0.625, 0.5, 1, 6, 88.7, 89, -87.3, -103, -104, 20, 9, -9, Math.SQRT2, 0.44]) {
    v.push(c, -c, Math.fround(c) + 1e-6, Math.fround(c) - 1e-6);
  }
  return Float32Array.from(v);
}

let nn: Runtime;
beforeAll(async () => {
  nn = await runtime();
});

/** A tolerance as a multiple of ε when it is one, else in scientific notation. */
const tolText = (v: number) => (Number.isInteger(v / EPS) ? `${v / EPS === 1 ? '' : v / EPS}ε` : v.toExponential(0));

/** Measured accuracy per activation over the sweep, written to test/artifacts/accuracy-<binary>.md
 *  in Node (the README's accuracy table comes from this file). */
const measured: Array<{ label: string; maxAbs: number; maxRel: number; ratio: number; tol: string }> = [];
afterAll(async () => {
  if (typeof process === 'undefined' || !process.versions?.node || measured.length === 0) return;
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const dir = new URL('./artifacts/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const lines = [
    `| activation | max abs error where \\|ref\\| ≤ 1 | max rel error where \\|ref\\| > 1 | worst error ÷ tolerance | tolerance (abs, rel) |`,
    '|---|---|---|---|---|',
    ...measured.map((m) => `| ${m.label} | ${m.maxAbs.toExponential(2)} | ${m.maxRel.toExponential(2)} | ${m.ratio.toFixed(3)} | ${m.tol} |`),
  ];
  writeFileSync(new URL(`accuracy-${SIMD}.md`, dir), `Accuracy of the ${SIMD} binary against float64 over ${sweep().length} inputs (npm test)\n\n${lines.join('\n')}\n`);
});

describe(`activations (${SIMD} binary)`, () => {
  it('loads the binary this project asks for', () => {
    expect(nn.features.binary).toBe(SIMD);
  });

  const x = sweep();
  for (const c of CASES) {
    const label = `${c.name}${c.params ? ' ' + JSON.stringify(c.params) : ''}`;
    it(`${label}: whole float range within abs ${c.abs.toExponential(2)} rel ${c.rel.toExponential(2)}`, () => {
      const y = nn.activate(c.name, x, c.params as never);
      const ref = Array.from(x, (v) => refActivation(c.name, v, c.params));
      if (c.exact) {
        const bad: string[] = [];
        for (let i = 0; i < x.length; i++) {
          const r = Math.fround(ref[i]!);
          if (!(y[i] === r || (Number.isNaN(r) && Number.isNaN(y[i])))) bad.push(`${label}(${x[i]}) = ${y[i]}, expected ${r}`);
        }
        expect(bad.slice(0, 5)).toEqual([]);
      } else {
        const w = worst(y, ref, c.abs, c.rel, x);
        let maxAbs = 0;
        let maxRel = 0;
        for (let i = 0; i < x.length; i++) {
          const r = ref[i]!;
          if (!Number.isFinite(r) || !Number.isFinite(y[i]!) || !Number.isFinite(Math.fround(r))) continue;
          const e = Math.abs(y[i]! - r);
          if (Math.abs(r) <= 1) maxAbs = Math.max(maxAbs, e);
          else maxRel = Math.max(maxRel, e / Math.abs(r));
        }
        measured.push({ label, maxAbs, maxRel, ratio: w.ratio, tol: `${tolText(c.abs)}, ${tolText(c.rel)}` });
        expect(w.ratio, `${label}(${w.input}) = ${w.actual}, expected ${w.expected}`).toBeLessThanOrEqual(1);
      }
    });

    it(`${label}: sizes ${SIZES.join(',')}, in place, into out, unaligned input`, () => {
      for (const n of SIZES) {
        const backing = rand(n + 3, n + 7, -8, 8);
        const input = backing.subarray(1, 1 + n); // byteOffset 4: not 16-byte aligned
        const ref = Array.from(input, (v) => refActivation(c.name, v, c.params));
        const tol = c.exact ? { abs: 0, rel: 0 } : c;
        const fresh = nn.activate(c.name, input, c.params as never);
        expect(fresh.length).toBe(n);
        expect(worst(fresh, ref, tol.abs, tol.rel).ratio).toBeLessThanOrEqual(1);
        const out = new Float32Array(n + 2).fill(123).subarray(1, 1 + n);
        nn.activate(c.name, input, c.params as never, out);
        expect(Array.from(out)).toEqual(Array.from(fresh));
        // nothing written around the output
        expect(new Float32Array(out.buffer)[0]).toBe(123);
        expect(new Float32Array(out.buffer)[n + 1]).toBe(123);
        const inPlace = input.slice();
        nn.activate(c.name, inPlace, c.params as never, inPlace);
        expect(Array.from(inPlace)).toEqual(Array.from(fresh));
        expect(backing[0]).toBe(rand(n + 3, n + 7, -8, 8)[0]); // input untouched
      }
    });
  }

  it('the worked example: z = −1 gives ReLU 0 and sigmoid 0.2689414213699951', () => {
    const z = Float32Array.of(-1);
    expect(nn.relu(z)[0]).toBe(0);
    expect(Math.abs(nn.sigmoid(z)[0]! - 0.2689414213699951)).toBeLessThanOrEqual(EPS * 0.27);
  });

  it('saturates infinities the way the math says and propagates NaN', () => {
    const x = Float32Array.of(-Infinity, Infinity, NaN);
    expect(Array.from(nn.sigmoid(x))).toEqual([0, 1, NaN]);
    expect(Array.from(nn.tanh(x))).toEqual([-1, 1, NaN]);
    expect(Array.from(nn.softsign(x))).toEqual([-1, 1, NaN]);
    expect(Array.from(nn.softplus(x))).toEqual([0, Infinity, NaN]);
    for (const name of ['silu', 'gelu', 'mish', 'hardSwish'] as const) {
      const y = nn.activate(name, x);
      expect(y[0] === 0 && y[1] === Infinity && Number.isNaN(y[2]), `${name}: ${Array.from(y)}`).toBe(true);
    }
    expect(Array.from(nn.elu(x))).toEqual([-1, Infinity, NaN]);
    for (const name of ['relu', 'relu6', 'leakyRelu', 'step', 'hardSigmoid', 'thresholdedRelu', 'exp', 'erf', 'selu', 'celu'] as const) {
      expect(Number.isNaN(nn.activate(name, Float32Array.of(NaN))[0]), `${name}(NaN)`).toBe(true);
    }
  });

  it('sigmoid keeps its relative accuracy down the lower tail (not only the ε absolute tolerance)', () => {
    // A rational approximation plus ½ would meet |error| ≤ ε there and still return 0 for x < −18.
    const x = Float32Array.from({ length: 2000 }, (_, i) => -1 - (86 * i) / 1999);
    const y = nn.sigmoid(x);
    let worst = 0;
    let at = 0;
    for (let i = 0; i < x.length; i++) {
      const ref = 1 / (1 + Math.exp(-x[i]!));
      const rel = Math.abs(y[i]! - ref) / ref;
      if (rel > worst) [worst, at] = [rel, x[i]!];
    }
    expect(worst, `worst relative error ${worst} at x = ${at}`).toBeLessThan(5e-7);
  });

  it('bounded functions stay in their range near saturation: every float32 where tanh and erf reach ±1', () => {
    // tanh and erf are rational fits clamped to [−1, 1]; without the clamp they overshoot 1 by up
    // to 2 ulp near saturation (from about 7.85 and 3.6). Every float in [6, 10) and [3, 5), both signs.
    const all = (lo: number, hi: number) => {
      const b = new Uint32Array(2);
      new Float32Array(b.buffer).set([lo, hi]);
      const bits = new Uint32Array(b[1]! - b[0]!).map((_, i) => b[0]! + i);
      return new Float32Array(bits.buffer);
    };
    for (const [name, lo, hi] of [['tanh', 6, 10], ['erf', 3, 5], ['sigmoid', 12, 20]] as const) {
      const pos = all(lo, hi);
      const neg = pos.map((v) => -v);
      const yp = nn.activate(name, pos), yn = nn.activate(name, neg);
      const low = name === 'sigmoid' ? 0 : -1;
      for (let i = 0; i < pos.length; i++) {
        if (!(yp[i]! <= 1 && yn[i]! >= low)) expect.fail(`${name}(±${pos[i]}) = ${yp[i]}, ${yn[i]}: outside [${low}, 1]`);
      }
      expect(yp[pos.length - 1], `${name}(${hi}⁻)`).toBe(1);
    }
  });

  it('prelu: per-channel slope broadcast along the last axis, and a single slope', () => {
    const slope = [0.1, 0.2, 0.3];
    const x = rand(3 * 7, 3, -4, 4);
    const y = nn.prelu(x, { slope });
    for (let i = 0; i < x.length; i++) {
      const s = slope[i % 3]!;
      expect(y[i]).toBe(Math.fround(x[i]! < 0 ? Math.fround(s) * x[i]! : x[i]!));
    }
    const one = nn.prelu(x, { slope: 0.25 });
    for (let i = 0; i < x.length; i++) expect(one[i]).toBe(Math.fround(x[i]! < 0 ? 0.25 * x[i]! : x[i]!));
    for (const n of [4, 5, 8, 17]) {
      const s = rand(n, n, 0, 1);
      const xs = rand(n * 3, n + 1, -2, 2);
      const ys = nn.prelu(xs, { slope: s });
      for (let i = 0; i < xs.length; i++) expect(ys[i]).toBe(Math.fround(xs[i]! < 0 ? s[i % n]! * xs[i]! : xs[i]!));
    }
  });

  it('the list drives the tests and the runtime: every activation has a case here (or its own test) and a named method', () => {
    expect(DEFAULTS.length).toBeGreaterThanOrEqual(22);
    const own = ['prelu', 'softmax', 'logSoftmax']; // prelu below, softmax.test.ts
    expect(ACTIVATION_NAMES.filter((n) => !ELEMENTWISE_ACTIVATIONS.has(n))).toEqual(own);
    for (const name of ACTIVATION_NAMES) {
      expect(typeof (nn as unknown as Record<string, unknown>)[name], `nn.${name}`).toBe('function');
    }
  });

  it('names: framework spellings resolve (test/aliases.test.ts checks each against its framework)', () => {
    const x = Float32Array.of(-2, 0.5);
    expect(Array.from(nn.activate('LeakyRelu', x))).toEqual(Array.from(nn.leakyRelu(x)));
    // 'leaky_relu' and 'hard_sigmoid' no longer take simdnn's defaults: PyTorch and Keras 3 disagree
    // on leaky_relu's slope (0.01, 0.2), Keras 2 and 3 on hard_sigmoid's (0.2, 1/6), so they need it.
    expect(Array.from(nn.activate('leaky_relu', x, { negative_slope: 0.01 }))).toEqual(Array.from(nn.leakyRelu(x)));
    expect(Array.from(nn.activate('swish', x))).toEqual(Array.from(nn.silu(x)));
    expect(Array.from(nn.activate({ name: 'hard_sigmoid', alpha: 0.2 }, x))).toEqual(Array.from(nn.hardSigmoid(x)));
    expect(Array.from(nn.activate({ name: 'leakyRelu', alpha: 0.5 }, x))).toEqual([-1, 0.5]);
  });
});

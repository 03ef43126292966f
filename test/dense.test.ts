import { describe, expect, it, beforeAll } from 'vitest';
import type { Runtime } from '../src/node.js';
import { rand, refActivation, refDense, refSoftmax } from './reference.js';
import { entry, runtime, SIMD } from './runtime.js';
import { ACTIVATION_TOLERANCE } from './tolerances.js';

let nn: Runtime;
beforeAll(async () => {
  nn = await runtime();
});

/** max |y − ref| relative to the largest |ref| (the accuracy measure for models). */
function maxRelDiff(y: ArrayLike<number>, ref: ArrayLike<number>): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!));
    diff = Math.max(diff, Math.abs(y[i]! - ref[i]!));
  }
  if (Number.isNaN(diff) || y.length !== ref.length) return Infinity;
  return scale === 0 ? diff : diff / scale;
}

/** Float32 accumulation error bound for a dot product of length K: a few ulps per term. */
function denseTolerance(K: number): number {
  return 4e-7 * Math.sqrt(K + 1) + 1e-7;
}

describe(`dense layers (${SIMD} binary)`, () => {
  const BATCHES = [1, 2, 3, 4, 5, 8, 64];
  const SHAPES: Array<[number, number]> = [[1, 1], [3, 1], [1, 5], [4, 4], [7, 9], [8, 8], [9, 17], [15, 31], [16, 33], [33, 16], [31, 7], [64, 40], [100, 3], [17, 1023], [1023, 17]];

  for (const [K, N] of SHAPES) {
    it(`K=${K} inputs, N=${N} units, batches ${BATCHES.join(',')}, both weight layouts`, () => {
      const w = rand(K * N, K * 1000 + N, -1, 1);
      const b = rand(N, N + 5, -1, 1);
      const outIn = nn.dense({ inputs: K, units: N, weights: w, bias: b });
      // the same weights stored [K][N] (Keras)
      const wt = new Float32Array(K * N);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wt[k * N + n] = w[n * K + k]!;
      const inOut = nn.dense({ inputs: K, units: N, weights: wt, bias: b, weightsLayout: 'in-out' });
      for (const batch of BATCHES) {
        const x = rand(batch * K, batch * 7 + K, -2, 2);
        const ref = refDense(x, w, b, batch, K, N);
        const y = outIn.predict(x, batch);
        expect(y.length).toBe(batch * N);
        expect(maxRelDiff(y, ref), `batch ${batch}`).toBeLessThanOrEqual(denseTolerance(K));
        expect(Array.from(inOut.predict(x, batch))).toEqual(Array.from(y));
        // batch invariance: the last row alone gives bit-identical results
        const last = outIn.predict(x.subarray((batch - 1) * K), 1);
        expect(Array.from(y.subarray((batch - 1) * N))).toEqual(Array.from(last));
      }
      outIn.dispose();
      inOut.dispose();
    });
  }

  it('fuses every activation into the dense epilogue, matching dense-then-activate', () => {
    const K = 13;
    const N = 21;
    const w = rand(K * N, 3, -1, 1);
    const b = rand(N, 4, -1, 1);
    const acts: Array<string | Record<string, unknown>> = [
      'linear', 'step', 'relu', 'relu6', 'leakyRelu', { name: 'leakyRelu', alpha: 0.3 }, 'elu', 'selu', 'celu',
      'gelu', { name: 'gelu', approximate: 'tanh' }, 'silu', 'mish', 'sigmoid', 'hardSigmoid', 'hardSwish',
      'tanh', 'softplus', 'softsign', 'thresholdedRelu', { name: 'clip', min: -0.5, max: 0.5 }, 'exp', 'erf', 'sign',
      { name: 'prelu', slope: Array.from(rand(N, 9, 0, 0.5)) }, 'softmax', 'logSoftmax',
    ];
    const linear = nn.dense({ inputs: K, units: N, weights: w, bias: b });
    for (const batch of [1, 5]) {
      const x = rand(batch * K, 11 + batch, -3, 3);
      const z = linear.predict(x, batch);
      for (const act of acts) {
        const m = nn.dense({ inputs: K, units: N, weights: w, bias: b, activation: act as never });
        const y = m.predict(x, batch);
        const name = typeof act === 'string' ? act : (act.name as string);
        const expected = name === 'softmax' || name === 'logSoftmax' ? nn.activate(name, z.slice(0, N)) : nn.activate(act as never, z);
        const cmp = name === 'softmax' || name === 'logSoftmax' ? y.slice(0, N) : y;
        expect(Array.from(cmp), `${JSON.stringify(act)} batch ${batch}`).toEqual(Array.from(expected));
        m.dispose();
      }
    }
    linear.dispose();
  });

  it('a 784-512-256-10 ReLU/softmax MLP matches float64 to ≤ 1e-5 for batch 1 and 64', () => {
    const sizes = [784, 512, 256, 10];
    const weights = [0, 1, 2].map((i) => rand(sizes[i]! * sizes[i + 1]!, 100 + i, -1, 1).map((v) => v / Math.sqrt(sizes[i]!)));
    const biases = [0, 1, 2].map((i) => rand(sizes[i + 1]!, 200 + i, -0.1, 0.1));
    const acts = ['relu', 'relu', 'softmax'] as const;
    const model = nn.sequential({
      format: 'simdnn', version: 1,
      layers: [0, 1, 2].map((i) => ({ inputs: sizes[i]!, units: sizes[i + 1]!, activation: acts[i], weights: weights[i]!, bias: biases[i]! })),
    });
    expect(model.inputs).toBe(784);
    expect(model.outputs).toBe(10);
    expect(model.parameterCount).toBe(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
    for (const batch of [1, 64]) {
      const x = rand(batch * 784, 7 + batch, 0, 1);
      let h: ArrayLike<number> = x;
      for (let i = 0; i < 3; i++) {
        const z = refDense(h, weights[i]!, biases[i]!, batch, sizes[i]!, sizes[i + 1]!, i < 2 ? (v) => refActivation('relu', v) : undefined);
        h = i < 2 ? z : refSoftmax(z, 10);
      }
      const y = model.predict(x, batch);
      expect(maxRelDiff(y, h), `batch ${batch}`).toBeLessThanOrEqual(1e-5);
    }
    expect(model.summary()).toMatch(/784 inputs → 10 outputs[\s\S]*dense_0\s+dense\s+\[batch, 512\]\s+relu\s+401920/);
    model.dispose();
  });

  it('stacked linear layers collapse into one matrix; a ReLU between them does not', () => {
    const W1 = [1, 2, -1, 0.5, 0, -3];            // 3 units × 2 inputs
    const W2 = [1, -1, 2];                          // 1 unit × 3 inputs
    const W21 = [0, 0];                             // W2·W1
    for (let k = 0; k < 2; k++) W21[k] = W2[0]! * W1[k]! + W2[1]! * W1[2 + k]! + W2[2]! * W1[4 + k]!;
    const linear = nn.sequential({ layers: [{ inputs: 2, units: 3, weights: W1 }, { units: 1, weights: W2 }] });
    const collapsed = nn.dense({ inputs: 2, units: 1, weights: W21 });
    const bent = nn.sequential({ layers: [{ inputs: 2, units: 3, weights: W1, activation: 'relu' }, { units: 1, weights: W2 }] });
    const x = rand(2 * 50, 77, -3, 3);
    expect(maxRelDiff(linear.predict(x, 50), collapsed.predict(x, 50))).toBeLessThan(1e-6);
    expect(maxRelDiff(bent.predict(x, 50), collapsed.predict(x, 50))).toBeGreaterThan(0.1);
    [linear, collapsed, bent].forEach((m) => m.dispose());
  });

  it('activation layers, nested weight arrays, number[] inputs, predictInto', () => {
    const model = nn.sequential({
      layers: [
        { inputs: 3, units: 2, weights: [[1, 0, 0], [0, 1, 0]], bias: [0.5, -0.5] },
        { type: 'activation', activation: { name: 'leakyRelu', alpha: 0.5 } },
        { type: 'activation', activation: 'softmax' },
      ],
    });
    const out = new Float32Array(2);
    expect(model.predictInto([1, -3, 9], out)).toBe(out);
    const z = [1.5, -3.5 * 0.5];
    const ref = refSoftmax(z, 2);
    expect(Math.abs(out[0]! - ref[0]!)).toBeLessThan(1e-6);
    expect(Math.abs(out[1]! - ref[1]!)).toBeLessThan(1e-6);
    expect(model.predict(new Float32Array(0), 0).length).toBe(0);
    model.dispose();
  });
});

describe('both binaries', () => {
  it('the relaxed (FMA) binary agrees with the baseline one within float32 rounding, where the engine has it', async () => {
    const { createRuntime, detectFeatures } = await entry;
    const base = await createRuntime({ simd: 'baseline' });
    if (!detectFeatures().relaxedSimd) {
      // Node 20 without --experimental-wasm-relaxed-simd: asking for it must fail clearly.
      await expect(createRuntime({ simd: 'relaxed' })).rejects.toMatchObject({ code: 'NO_SIMD' });
      return;
    }
    const relaxed = await createRuntime({ simd: 'relaxed' });
    expect([base.features.binary, relaxed.features.binary]).toEqual(['baseline', 'relaxed']);
    const sizes = [784, 512, 256, 10];
    const spec = {
      layers: [0, 1, 2].map((i) => ({
        inputs: sizes[i]!, units: sizes[i + 1]!, activation: (i < 2 ? 'gelu' : 'softmax') as 'gelu' | 'softmax',
        weights: rand(sizes[i]! * sizes[i + 1]!, 300 + i, -1, 1).map((v) => v / Math.sqrt(sizes[i]!)), bias: rand(sizes[i + 1]!, 400 + i, -0.1, 0.1),
      })),
    };
    const x = rand(8 * 784, 9, 0, 1);
    using ma = base.sequential(spec);
    using mb = relaxed.sequential(spec);
    const a = ma.predict(x, 8);
    const b = mb.predict(x, 8);
    expect(maxRelDiff(b, a)).toBeLessThanOrEqual(1e-5);
    expect(Array.from(a)).not.toEqual([]);
    const s = rand(4096, 5, -20, 20);
    for (const name of ['sigmoid', 'tanh', 'gelu', 'exp', 'softplus', 'mish'] as const) {
      const ya = base.activate(name, s);
      const yb = relaxed.activate(name, s);
      // Each binary is within the activation's tolerance of float64, so they are within twice it of
      // each other.
      const { abs, rel } = ACTIVATION_TOLERANCE[name]!;
      for (let i = 0; i < s.length; i++) {
        expect(Math.abs(ya[i]! - yb[i]!), `${name}(${s[i]})`).toBeLessThanOrEqual(2 * (abs + rel * Math.abs(ya[i]!)));
      }
    }
  });
});

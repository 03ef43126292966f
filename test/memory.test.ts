import { describe, expect, it } from 'vitest';
import { createRuntime } from '../src/node.js';
import { rand, refDense } from './reference.js';
import { SIMD } from './runtime.js';

describe(`memory (${SIMD} binary)`, () => {
  it('a model created before memory grows predicts correctly after it grows', async () => {
    const nn = await createRuntime({ simd: SIMD });
    const K = 37;
    const N = 19;
    const w = rand(K * N, 1);
    const b = rand(N, 2);
    const model = nn.dense({ inputs: K, units: N, weights: w, bias: b, activation: 'relu' });
    const x = rand(3 * K, 3);
    const before = model.predict(x, 3);
    const heapBefore = nn.memory().heapBytes;
    // Force growth: a large model (8 MB of weights) and a large activation call.
    const big = nn.dense({ inputs: 2048, units: 1024, weights: new Float32Array(2048 * 1024), bias: new Float32Array(1024) });
    nn.relu(new Float32Array(3_000_000));
    expect(nn.memory().heapBytes).toBeGreaterThan(heapBefore + 8e6);
    const after = model.predict(x, 3);
    expect(Array.from(after)).toEqual(Array.from(before));
    const ref = refDense(x, w, b, 3, K, N, (v) => Math.max(0, v));
    for (let i = 0; i < ref.length; i++) expect(Math.abs(after[i]! - ref[i]!)).toBeLessThan(1e-5);
    // growth in the middle of a model's own buffers (a batch bigger than any before)
    const x2 = rand(5000 * K, 4);
    const y2 = model.predict(x2, 5000);
    expect(Array.from(y2.subarray(0, N))).toEqual(Array.from(model.predict(x2.subarray(0, K), 1)));
    big.dispose();
    model.dispose();
  });

  it('10,000 create/predict/dispose cycles return nn.memory() to its starting point', async () => {
    const nn = await createRuntime({ simd: SIMD });
    const w = rand(6 * 5, 1);
    const spec = { layers: [{ inputs: 6, units: 5, weights: w, activation: 'tanh' as const }, { units: 3, weights: rand(15, 2), activation: 'softmax' as const }] };
    const warm = nn.sequential(spec);
    warm.predict(rand(6 * 4, 3), 4);
    warm.dispose();
    const start = nn.memory();
    expect(start.objects).toBe(0);
    expect(start.bytes).toBe(0);
    for (let i = 0; i < 10_000; i++) {
      const m = nn.sequential(spec);
      m.predict(rand(6 * ((i % 7) + 1), i), (i % 7) + 1);
      m.dispose();
    }
    const end = nn.memory();
    expect(end).toEqual(start);
  });

  it('disposal: double dispose is harmless, use after dispose throws DISPOSED, `using` disposes', async () => {
    const nn = await createRuntime({ simd: SIMD });
    const m = nn.dense({ inputs: 2, units: 2, weights: [1, 0, 0, 1] });
    expect(nn.memory().objects).toBe(1);
    m.dispose();
    m.dispose();
    expect(m.disposed).toBe(true);
    expect(nn.memory().objects).toBe(0);
    expect(() => m.predict([1, 2])).toThrow(expect.objectContaining({ name: 'SimdnnError', code: 'DISPOSED' }));
    {
      const scoped = nn.dense({ inputs: 2, units: 2, weights: [1, 0, 0, 1] });
      scoped[Symbol.dispose]();
    }
    expect(nn.memory().objects).toBe(0);
  });

  it('a failed model creation frees what it had allocated', async () => {
    const nn = await createRuntime({ simd: SIMD });
    const before = nn.memory();
    expect(() => nn.sequential({ layers: [{ inputs: 4, units: 4, weights: new Float32Array(16) }, { units: 2, weights: [1, 2, 3] }] }))
      .toThrow(expect.objectContaining({ code: 'INVALID_WEIGHTS' }));
    expect(nn.memory()).toEqual(before);
  });
});

// Browsers: Float32Arrays from an iframe (another realm: its Float32Array is another constructor)
// are accepted as inputs, outputs and weights, with the same results.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../src/index.js';
import { SIMD } from './runtime.js';

describe(`an iframe's typed arrays (${SIMD} binary)`, () => {
  it('predict, predictInto, activate and weights accept them', async () => {
    const frame = document.createElement('iframe');
    document.body.appendChild(frame);
    try {
      const F = (frame.contentWindow as unknown as { Float32Array: Float32ArrayConstructor }).Float32Array;
      expect(F).not.toBe(Float32Array);
      const nn = await createRuntime({ simd: SIMD });
      const w = [0.25, -0.5, 1, 2, 0.125, -1];
      const m = nn.dense({ inputs: 3, units: 2, weights: F.from(w), activation: 'tanh' });
      const ref = nn.dense({ inputs: 3, units: 2, weights: w, activation: 'tanh' });
      const x = F.of(0.5, -1, 2);
      expect(x instanceof Float32Array).toBe(false);
      const want = Array.from(ref.predict(Float32Array.of(0.5, -1, 2)));
      expect(Array.from(m.predict(x))).toEqual(want);
      const out = new F(2);
      m.predictInto(x, out);
      expect(Array.from(out)).toEqual(want);
      expect(Array.from(nn.relu(x))).toEqual([0.5, 0, 2]);
      nn.dispose();
    } finally {
      frame.remove();
    }
  });
});

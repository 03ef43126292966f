// scikit-learn's digits (test/fixtures/digits.bin, written by make_digits.py): a 64-64-10
// ReLU/softmax MLP trained from scratch reaches ≥ 95% accuracy on a held-out quarter.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runtime, SIMD } from './runtime.js';

const ROWS = 1797;

function loadDigits(): { x: Float32Array; y: Uint8Array } {
  const bytes = readFileSync(new URL('./fixtures/digits.bin', import.meta.url));
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('DIG1');
  expect(bytes.length).toBe(4 + ROWS * 64 + ROWS);
  const x = Float32Array.from(bytes.subarray(4, 4 + ROWS * 64), (v) => v / 16);
  const y = Uint8Array.from(bytes.subarray(4 + ROWS * 64));
  return { x, y };
}

/** A fixed shuffled 75/25 split (Fisher–Yates with a seeded integer generator). */
function split(x: Float32Array, y: Uint8Array, seed: number) {
  const order = Array.from({ length: ROWS }, (_, i) => i);
  let s = seed >>> 0;
  for (let i = ROWS - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = Math.floor((s / 4294967296) * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nTrain = Math.round(ROWS * 0.75);
  const take = (idx: number[]) => ({
    x: Float32Array.from({ length: idx.length * 64 }, (_, k) => x[idx[k >> 6]! * 64 + (k & 63)]!),
    y: Uint8Array.from(idx, (i) => y[i]!),
  });
  return { train: take(order.slice(0, nTrain)), test: take(order.slice(nTrain)) };
}

describe(`digits (${SIMD} binary)`, () => {
  it('64-64-10 ReLU/softmax MLP from scratch: ≥ 95% test accuracy (Adam, crossEntropy, class indices)', async () => {
    const nn = await runtime();
    const { x, y } = loadDigits();
    const { train, test } = split(x, y, 2024);
    const model = nn.sequential({ layers: [{ inputs: 64, units: 64, activation: 'relu' }, { units: 10, activation: 'softmax' }] }, { seed: 1 });
    try {
      const h = await model.fit(train.x, train.y, {
        epochs: 30, batchSize: 32, loss: 'crossEntropy', optimizer: 'adam', validationData: [test.x, test.y],
      });
      const result = model.evaluate(test.x, test.y, { loss: 'crossEntropy' });
      expect(result.accuracy).toBeGreaterThanOrEqual(0.95);
      expect(h.valAccuracy![h.valAccuracy!.length - 1]).toBe(result.accuracy);
      expect(h.accuracy![29]).toBeGreaterThan(0.97);
      // predict agrees with evaluate: the model predicts with the trained weights
      const probs = model.predict(test.x, test.y.length);
      let correct = 0;
      for (let r = 0; r < test.y.length; r++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (probs[r * 10 + c]! > probs[r * 10 + best]!) best = c;
        if (best === test.y[r]) correct++;
      }
      expect(correct / test.y.length).toBe(result.accuracy);
      console.log(`digits (${SIMD}): test accuracy ${(result.accuracy! * 100).toFixed(2)}%, loss ${result.loss.toFixed(4)}`);
    } finally {
      model.dispose();
    }
  });
});

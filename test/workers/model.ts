// A small deterministic model shared by the worker tests (Web Worker and Node worker thread).
import type { ModelSpec } from '../../src/index.js';

/** xorshift32 → [-1, 1): the same weights on every run and in every thread. */
function weights(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** 8 → 32 (relu) → 16 (gelu) → 4 (softmax). */
export const SPEC: ModelSpec = {
  format: 'simdnn',
  version: 1,
  layers: [
    { inputs: 8, units: 32, activation: 'relu', weights: weights(8 * 32, 1), bias: weights(32, 2) },
    { units: 16, activation: 'gelu', weights: weights(32 * 16, 3), bias: weights(16, 4) },
    { units: 4, activation: 'softmax', weights: weights(16 * 4, 5), bias: weights(4, 6) },
  ],
};

/** `batch` input rows for SPEC. */
export function inputs(batch: number): Float32Array {
  return Float32Array.from(weights(batch * 8, 7), (v) => v * 3);
}

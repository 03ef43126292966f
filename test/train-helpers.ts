// Shared by the training tests: models disposed after the test that made them, and the closeness
// check of a gradient or output against its float64 reference.
import { afterEach, expect } from 'vitest';
import type { Sequential } from '../src/node.js';

/** `track(model)` disposes the model after the current test. Call once at the top of a test file. */
export function trackModels(): (m: Sequential) => Sequential {
  const live: Sequential[] = [];
  afterEach(() => {
    for (const m of live.splice(0)) m.dispose();
  });
  return (m) => (live.push(m), m);
}

/** max |got − ref| ≤ tol · (max |ref| + 1e-6): an error relative to the whole array's scale. */
export function expectNear(got: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  let scale = 0;
  let worst = 0;
  let at = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]!));
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  expect(worst, `${what}: worst at ${at}: ${got[at]} vs ${ref[at]} (scale ${scale})`).toBeLessThanOrEqual(tol * (scale + 1e-6));
}

// Running an imported spec on the real runtime and comparing with a framework's outputs (no Node
// APIs: the browser projects use it too).
import { expect } from 'vitest';
import type { Runtime } from '../../src/node.js';
import type { ImportedModelSpec } from '../../src/io/spec.js';

/** Run an imported spec on `batch` rows with the real runtime (batchNorm layers included). */
export function runSpec(nn: Runtime, spec: ImportedModelSpec, x: Float32Array, batch: number): Float32Array {
  const model = nn.sequential(spec);
  try {
    return model.predict(x, batch);
  } finally {
    model.dispose();
  }
}

/** |got − want| ≤ tol·max|want| everywhere. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  expect(worst, `${what} worst |diff| ${worst} at ${at} (got ${got[at]}, want ${want[at]}), max |want| ${scale}`).toBeLessThanOrEqual(tol * scale);
}

export interface Cases {
  x: number[][];
  cases: Record<string, { producer: string; y: number[][]; opset?: number; labels?: number[]; classes?: number[]; externalData?: string }>;
}

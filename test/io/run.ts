// Running an imported spec on the real runtime and comparing with a framework's outputs (no Node
// APIs: the browser projects use it too).
import { expect } from 'vitest';
import type { Runtime } from '../../src/node.js';
import type { ImportedLayer, ImportedModelSpec } from '../../src/io/spec.js';
import type { LayerSpec } from '../../src/model.js';

/** y = (x − mean)/√(var + ε)·scale + offset in float32, as the runtime's batchNorm layer will. */
function batchNorm(l: Extract<ImportedLayer, { type: 'batchNorm' }>, x: Float32Array, batch: number): Float32Array {
  const n = l.mean.length;
  const out = new Float32Array(x.length);
  for (let r = 0; r < batch; r++) {
    for (let k = 0; k < n; k++) {
      const v = (x[r * n + k]! - l.mean[k]!) / Math.sqrt(l.variance[k]! + l.epsilon);
      out[r * n + k] = v * l.scale[k]! + l.offset[k]!;
    }
  }
  return out;
}

/**
 * Run an imported spec on `batch` rows: its dense and activation layers with the real runtime
 * (nn.sequential); batchNorm layers, which the runtime does not have yet, in JavaScript between them.
 */
export function runSpec(nn: Runtime, spec: ImportedModelSpec, x: Float32Array, batch: number): Float32Array {
  let width = spec.inputs;
  let cur = x;
  let run: LayerSpec[] = [];
  const flush = () => {
    if (!run.length) return;
    const model = nn.sequential({ format: 'simdnn', version: 1, inputs: width, layers: run });
    try {
      cur = model.predict(cur, batch);
      width = model.outputs;
    } finally {
      model.dispose();
    }
    run = [];
  };
  for (const l of spec.layers) {
    if (l.type === 'batchNorm') {
      flush();
      cur = batchNorm(l, cur, batch);
    } else run.push(l as LayerSpec);
  }
  flush();
  return cur;
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

// The layer-descriptor layout shared by the runtime (src/ops.ts) and the worker (src/worker.ts).

/** Layout of one layer descriptor read by model_forward_f32: 8 × i32.
 *  MUST MATCH assembly/model.ts (test/abi.test.ts checks). */
export const DESC_BYTES = 32;
export const DESC = { type: 0, inputs: 1, units: 2, packed: 3, kind: 4, a: 5, b: 6, slope: 7 } as const;
export const LAYER_TYPE = { dense: 0, activation: 1, affine: 2 } as const;

/** Floats of one I/O region of `n` values: 16-byte aligned, with one spare vector for SIMD tails. */
export const region = (n: number): number => Math.ceil(n / 4) * 4 + 4;

/** A forward pass's I/O block for `rows` rows: input, output and two ping-pong scratch regions
 *  (model_forward_f32's bufA and bufB), laid out from `ptr`. `floats` sizes the block. */
export function ioBlock(ptr: number, rows: number, inputs: number, outputs: number, widest: number): {
  floats: number; x: number; out: number; a: number; b: number;
} {
  const [ri, ro, rw] = [region(rows * inputs), region(rows * outputs), region(rows * widest)];
  const out = ptr + ri * 4;
  const a = out + ro * 4;
  return { floats: ri + ro + 2 * rw, x: ptr, out, a, b: a + rw * 4 };
}

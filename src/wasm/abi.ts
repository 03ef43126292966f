// The layer-descriptor layout shared by the runtime (src/ops.ts) and the worker (src/worker.ts).

/** Layout of one layer descriptor read by model_forward_f32: 8 × i32.
 *  MUST MATCH assembly/model.ts (test/abi.test.ts checks). */
export const DESC_BYTES = 32;
export const DESC = { type: 0, inputs: 1, units: 2, packed: 3, kind: 4, a: 5, b: 6, slope: 7 } as const;
export const LAYER_TYPE = { dense: 0, activation: 1, affine: 2 } as const;

// Shared by the two ONNX Runtime contenders (same JS API, different engines). The model is built at
// bench time from the workload's weights (bench/lib/onnx-model.mjs). Each call: new Tensor over the
// Float32Array → await session.run → output tensor's .data (a Float32Array).

import { onnxFor } from '../lib/onnx-model.mjs';

/**
 * @param {{id: string, label: string, load: () => Promise<{ort: any, info: object}>,
 *          sessionOptions: object, footprint: () => Promise<import('./types.mjs').Footprint>}} spec
 * @returns {import('./types.mjs').Contender}
 */
export function ortContender(spec) {
  let ort;
  return {
    id: spec.id,
    label: spec.label,

    supports: () => true,

    prepare(w) {
      onnxFor(w); // building the .onnx bytes is the user's offline export step, not ORT's cost
    },

    async init() {
      const loaded = await spec.load();
      ort = loaded.ort;
      return loaded.info;
    },

    async setup(w) {
      const model = onnxFor(w);
      const session = await ort.InferenceSession.create(model.bytes, {
        graphOptimizationLevel: 'all',
        ...spec.sessionOptions,
      });
      const { input, output, dims } = model;
      return {
        async run(x) {
          const feeds = { [input]: new ort.Tensor('float32', x, dims) };
          const result = await session.run(feeds);
          return result[output].data;
        },
        async dispose() {
          await session.release();
        },
      };
    },

    footprint: spec.footprint,
  };
}

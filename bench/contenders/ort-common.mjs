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

    supports: (w) => (w.kind === 'train' ? 'an ONNX Runtime inference session does not train (ORT training is another package)' : true),

    /** The import timing creates sessions from ONNX bytes (lib/import-timing.mjs). */
    importFormats: ['onnx'],

    prepare(w) {
      onnxFor(w); // building the .onnx bytes is the user's offline export step, not ORT's cost
    },

    async init() {
      const loaded = await spec.load();
      ort = loaded.ort;
      return loaded.info;
    },

    /** A session from ONNX bytes with this contender's options (also timed by the import timing). */
    createSession(bytes) {
      return ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', ...spec.sessionOptions });
    },

    /** One inference on a session: Float32Array in, Float32Array out. */
    async runSession(session, x, dims, input = 'x', output = 'y') {
      const result = await session.run({ [input]: new ort.Tensor('float32', x, dims) });
      return result[output].data;
    },

    async setup(w) {
      const model = onnxFor(w);
      const session = await this.createSession(model.bytes);
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

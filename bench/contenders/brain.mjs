// brain.js 2.0.0-beta.24 NeuralNetwork, loaded with the workload's weights via fromJSON. It applies
// one activation to every non-input layer and has no softmax, batch or standalone-activation API,
// so it can express W1 (relu(W·x + b), batch 1) and nothing else.

import { bundleBytes, footprintOf } from '../lib/footprint.mjs';

let brain;

/** @type {import('./types.mjs').Contender} */
export default {
  id: 'brain.js',
  label: 'brain.js 2.0.0-beta.24',

  supports(w) {
    if (w.kind === 'dense' && w.batch === 1) return true;
    if (w.kind === 'mlp') return 'brain.js NeuralNetwork uses one activation for every layer: no softmax output layer';
    return 'brain.js has no standalone elementwise activation or softmax API';
  },

  async init() {
    brain = (await import('brain.js')).default;
    const { createRequire } = await import('node:module');
    const version = createRequire(import.meta.url)('brain.js/package.json').version;
    return { version };
  },

  async setup(w) {
    const [l] = w.data().layers;
    // A template from a tiny initialised net gives every field fromJSON expects.
    const tiny = new brain.NeuralNetwork({ inputSize: 1, outputSize: 1, hiddenLayers: [], activation: 'relu' });
    tiny.initialize();
    const json = tiny.toJSON();
    const rows = Array.from({ length: l.units }, (_, n) => l.weights.subarray(n * l.inputs, (n + 1) * l.inputs));
    const net = new brain.NeuralNetwork();
    net.fromJSON({
      ...json,
      sizes: [l.inputs, l.units],
      layers: [{ weights: [], biases: [] }, { weights: rows, biases: l.bias }],
      options: { ...json.options, inputSize: l.inputs, outputSize: l.units },
    });
    if (net.trainOpts.activation !== 'relu') throw new Error(`brain.js activation is ${net.trainOpts.activation}`);
    return { run: (x) => net.run(x), dispose() {} };
  },

  async footprint() {
    return footprintOf({ js: await bundleBytes('brain.js'), note: 'esbuild --bundle --minify of brain.js (browser field, gpu.js included)' });
  },
};

// brain.js 2.0.0-beta.24 NeuralNetwork, loaded with the workload's weights via fromJSON. It applies
// one activation to every non-input layer and has no softmax, batch or standalone-activation API,
// so it can express W1 (relu(W·x + b), batch 1) and nothing else for inference.
//
// Training (W4, the small network only): brain.js trains online, one sample at a time, and has
// Adam (`praxis: 'adam'`, its own update rule per sample) but no softmax or cross-entropy: every
// layer, the output too, is relu and the error is target − output against one-hot rows (squared
// error). So one "step" here is `batch` per-sample Adam updates (net.trainPattern) on the same rows
// the others see in one batched step: the same samples per second, not the same computation.

import { bundleBytes, footprintOf } from '../lib/footprint.mjs';

let brain;

function trainInstance(w) {
  const { layers, x, labels } = w.data();
  const net = new brain.NeuralNetwork({
    inputSize: w.inputs, hiddenLayers: w.shape.slice(1, -1), outputSize: w.outputs,
    activation: 'relu', praxis: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
  });
  net.initialize();
  layers.forEach((l, i) => {
    for (let n = 0; n < l.units; n++) net.weights[i + 1][n] = l.weights.slice(n * l.inputs, (n + 1) * l.inputs);
    net.biases[i + 1] = Float32Array.from(l.bias);
  });
  if (net.adjustWeights !== net._adjustWeightsAdam) throw new Error('brain.js did not set up its Adam praxis');
  const oneHot = Array.from({ length: w.outputs }, (_, c) => Float32Array.from({ length: w.outputs }, (_, j) => (j === c ? 1 : 0)));
  return {
    step(k) {
      let sum = 0;
      for (let m = k * w.batch; m < (k + 1) * w.batch; m++) {
        sum += net.trainPattern({ input: x.subarray(m * w.inputs, (m + 1) * w.inputs), output: oneHot[labels[m]] }, true);
      }
      return sum / w.batch; // brain.js's own error measure, per sample before its update
    },
    crossEntropy: false,
    dispose() {},
  };
}

/** @type {import('./types.mjs').Contender} */
export default {
  id: 'brain.js',
  label: 'brain.js 2.0.0-beta.24',

  supports(w) {
    if (w.kind === 'dense' && w.batch === 1) return true;
    if (w.kind === 'train') {
      return w.inputs <= 64 ? true : 'brain.js is run on the small training network only (online per-sample training in plain JS)';
    }
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
    if (w.kind === 'train') return trainInstance(w);
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

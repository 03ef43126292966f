// Plain JavaScript written the way a typical user would: straightforward loops over Float32Arrays,
// Math.* for the transcendental functions, a copy-pasted erf (JS has no Math.erf). No tricks.

import { fileURLToPath } from 'node:url';
import { filesBytes, footprintOf } from '../lib/footprint.mjs';

/** y = act(W·x + b) for one layer, W[units][inputs] row-major, `batch` rows. */
function dense(x, W, b, inputs, units, batch, activation) {
  const y = new Float32Array(batch * units);
  for (let m = 0; m < batch; m++) {
    for (let n = 0; n < units; n++) {
      let sum = b[n];
      for (let k = 0; k < inputs; k++) sum += W[n * inputs + k] * x[m * inputs + k];
      y[m * units + n] = activation === 'relu' ? Math.max(0, sum) : sum;
    }
  }
  if (activation === 'softmax') softmax(y, units, y);
  return y;
}

function softmax(x, cols, y = new Float32Array(x.length)) {
  for (let r = 0; r < x.length; r += cols) {
    let max = -Infinity;
    for (let i = r; i < r + cols; i++) if (x[i] > max) max = x[i];
    let sum = 0;
    for (let i = r; i < r + cols; i++) {
      y[i] = Math.exp(x[i] - max);
      sum += y[i];
    }
    for (let i = r; i < r + cols; i++) y[i] /= sum;
  }
  return y;
}

// Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), the erf found in most JS snippets.
function erf(x) {
  const sign = x < 0 ? -1 : 1;
  x = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}

const ACT = {
  relu: (v) => Math.max(0, v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: (v) => Math.tanh(v),
  gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
};

function map(x, f) {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]);
  return y;
}

/** @type {import('./types.mjs').Contender} */
export default {
  id: 'naive-js',
  label: 'naive JavaScript',

  supports: (w) => (w.kind === 'train' ? 'no training code in the naive JavaScript contender' : true),

  async init() {
    return { version: `node ${process.versions.node}` };
  },

  async setup(w) {
    if (w.kind === 'elementwise') {
      const run = w.op === 'softmax' ? (x) => softmax(x, w.cols) : (x) => map(x, ACT[w.op]);
      return { run, dispose() {} };
    }
    const { layers } = w.data();
    const batch = w.batch;
    const run = (x) => {
      let h = x;
      for (const l of layers) h = dense(h, l.weights, l.bias, l.inputs, l.units, batch, l.activation);
      return h;
    };
    return { run, dispose() {} };
  },

  async footprint() {
    const self = fileURLToPath(import.meta.url).replace(/^.*\/bench\//, 'bench/');
    return footprintOf({ js: filesBytes([self]), note: `${self} (unminified source of these kernels)` });
  },
};

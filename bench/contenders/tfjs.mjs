// TensorFlow.js 4.22 with the pure-JS cpu backend or tfjs-backend-wasm (SIMD binary, one thread).
// Uses the ops API with fused matMul+bias+activation (its fastest path for dense layers, and what
// tf.layers.dense calls underneath) rather than the Layers API, whose per-call overhead is larger.
// Each call: tensor from the Float32Array → ops in tf.tidy → dataSync() → dispose.

import fs from 'node:fs';
import { filesBytes, footprintOf, fromRoot } from '../lib/footprint.mjs';

const WASM_DIR = fromRoot('bench/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

/** [rows][cols] → [cols][rows] */
function transpose(m, rows, cols) {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

/**
 * W4: one optimizer.minimize step of tf.train.adam (ε set to 1e-8 as in PyTorch and simdnn; TF.js's
 * default is 1e-7) over tf.losses.softmaxCrossEntropy of the logits, with the layers as variables
 * ([inputs][units] kernels, as tf.layers.dense keeps them) and the forward pass through
 * tf.fused.matMul (while gradients are recorded TF.js runs it unfused). Each step: tensors from the
 * batch's Float32Array and Int32Array labels → minimize → the loss read back with dataSync().
 */
function trainInstance(tf, w) {
  const { layers, x, labels } = w.data();
  // tidy disposes the initial-value tensors (the variables keep their data).
  const vars = layers.map((l) => tf.tidy(() => ({
    W: tf.variable(tf.tensor2d(transpose(l.weights, l.units, l.inputs), [l.inputs, l.units])),
    b: tf.variable(tf.tensor1d(l.bias)),
  })));
  const optimizer = tf.train.adam(0.001, 0.9, 0.999, 1e-8);
  const rows = w.batch * w.inputs, last = vars.length - 1;
  return {
    step(k) {
      const xt = tf.tensor2d(x.subarray(k * rows, (k + 1) * rows), [w.batch, w.inputs]);
      const yt = tf.tensor1d(labels.subarray(k * w.batch, (k + 1) * w.batch), 'int32');
      const cost = optimizer.minimize(() => {
        let h = xt;
        vars.forEach((v, i) => {
          h = tf.fused.matMul({ a: h, b: v.W, bias: v.b, activation: i < last ? 'relu' : 'linear' });
        });
        return tf.losses.softmaxCrossEntropy(tf.oneHot(yt, w.outputs), h);
      }, true);
      const loss = cost.dataSync()[0];
      xt.dispose(); yt.dispose(); cost.dispose();
      return loss;
    },
    crossEntropy: true,
    dispose() {
      optimizer.dispose();
      for (const v of vars) { v.W.dispose(); v.b.dispose(); }
    },
  };
}

/** @returns {import('./types.mjs').Contender} */
export function tfjs(backend) {
  let tf;
  return {
    id: `tfjs-${backend}`,
    label: backend === 'wasm' ? 'TF.js 4.22 wasm (SIMD, 1 thread)' : 'TF.js 4.22 cpu (JS)',

    supports: () => true,

    async init() {
      // Record which .wasm the backend reads: the check that it really picked the SIMD binary.
      const loaded = [];
      const readFileSync = fs.readFileSync;
      fs.readFileSync = function (p, ...rest) {
        if (String(p).endsWith('.wasm')) loaded.push(String(p).replace(/^.*\//, ''));
        return readFileSync.call(this, p, ...rest);
      };
      try {
        tf = await import('@tensorflow/tfjs');
        // Production mode: no debug checks, and no "install tfjs-node" hint on stdout.
        tf.enableProdMode();
        if (backend === 'wasm') {
          const wasm = await import('@tensorflow/tfjs-backend-wasm');
          wasm.setWasmPaths(WASM_DIR);
          wasm.setThreadsCount(1);
        }
        if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
        await tf.ready();
      } finally {
        fs.readFileSync = readFileSync;
      }
      const info = { version: tf.version.tfjs, backend: tf.getBackend() };
      if (backend === 'wasm') {
        info.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        info.threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
        info.binary = loaded.join(', ');
        if (info.binary !== 'tfjs-backend-wasm-simd.wasm') {
          throw new Error(`tfjs-backend-wasm loaded '${info.binary}', expected the single-threaded SIMD binary`);
        }
      }
      return info;
    },

    async setup(w) {
      if (w.kind === 'train') return trainInstance(tf, w);
      if (w.kind === 'elementwise') {
        const op = {
          relu: (t) => tf.relu(t),
          sigmoid: (t) => tf.sigmoid(t),
          tanh: (t) => tf.tanh(t),
          // tfjs has no gelu op: the exact erf form, composed.
          gelu: (t) => tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.mul(t, Math.SQRT1_2)), 1)),
          softmax: (t) => tf.softmax(t),
        }[w.op];
        const shape = w.op === 'softmax' ? [w.elements / w.cols, w.cols] : [w.elements];
        return {
          run(x) {
            const t = tf.tensor(x, shape, 'float32');
            const y = tf.tidy(() => op(t));
            const out = y.dataSync();
            t.dispose(); y.dispose();
            return out;
          },
          dispose() {},
        };
      }
      // Kernels stored [inputs][units], as tf.layers.dense keeps them. (Not transposeB: in
      // tfjs-backend-wasm 4.22, fused.matMul with transposeB: true and a bias returns wrong values;
      // the bench's reference check caught it.)
      const layers = w.data().layers.map((l) => ({
        W: tf.tensor2d(transpose(l.weights, l.units, l.inputs), [l.inputs, l.units]),
        b: tf.tensor1d(l.bias),
        activation: l.activation,
      }));
      const shape = [w.batch, w.inputs];
      return {
        run(x) {
          const t = tf.tensor2d(x, shape);
          const y = tf.tidy(() => {
            let h = t;
            for (const l of layers) {
              h = tf.fused.matMul({
                a: h, b: l.W, bias: l.b,
                activation: l.activation === 'relu' ? 'relu' : 'linear',
              });
              if (l.activation === 'softmax') h = tf.softmax(h);
            }
            return h;
          });
          const out = y.dataSync();
          t.dispose(); y.dispose();
          return out;
        },
        dispose() {
          for (const l of layers) { l.W.dispose(); l.b.dispose(); }
        },
      };
    },

    async footprint() {
      const js = ['bench/node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js',
        backend === 'wasm' ? 'bench/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js'
          : 'bench/node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js'];
      const wasm = backend === 'wasm' ? ['bench/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'] : [];
      return footprintOf({
        js: filesBytes(js), wasm: filesBytes(wasm),
        note: `${[...js, ...wasm].map((p) => p.replace(/^.*\//, '')).join(' + ')} (core + one backend; the full @tensorflow/tfjs bundle is larger)`,
      });
    },
  };
}

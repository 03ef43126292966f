// simdnn itself, through its public API on the built package (dist/ + build/*.wasm), one contender
// per binary. The relaxed binary needs --experimental-wasm-relaxed-simd on Node 20, so its child
// process gets that flag when the engine does not validate relaxed SIMD without it.

import { readFileSync } from 'node:fs';
import { bundleBytes, filesBytes, footprintOf } from '../lib/footprint.mjs';

const ENTRY = new URL('../../dist/node.js', import.meta.url);
// Read before any clock starts: the start-up figure times simdnn, not the benchmark's bookkeeping.
const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** The workload's layers as a simdnn spec holding their numbers. */
const specOf = (layers) => ({
  format: 'simdnn', version: 1,
  layers: layers.map((l, i) => ({
    ...(i === 0 ? { inputs: l.inputs } : {}),
    units: l.units, activation: l.activation, weights: l.weights, bias: l.bias,
  })),
});

/** W4: model.trainStep with cross-entropy (fused with the softmax output layer) and Adam's defaults.
 *  The thread-comparison workload uses model.fit over the one batch (one step) on one thread and on
 *  N (where the pool splits the step): the same call on both sides. */
function trainInstance(nn, w, threads) {
  const { layers, x, labels } = w.data();
  const model = nn.sequential(specOf(layers));
  const rows = w.batch * w.inputs;
  const xs = Array.from({ length: w.batches }, (_, k) => x.subarray(k * rows, (k + 1) * rows));
  const ys = Array.from({ length: w.batches }, (_, k) => labels.subarray(k * w.batch, (k + 1) * w.batch));
  const options = { loss: 'crossEntropy', optimizer: 'adam' };
  const fit = { ...options, batchSize: w.batch, epochs: 1, shuffle: false };
  return {
    step: threads || w.threads
      ? async (k) => (await model.fit(xs[k], ys[k], fit)).loss[0]
      : (k) => model.trainStep(xs[k], ys[k], w.batch, options),
    crossEntropy: true,
    dispose: () => model.dispose(),
  };
}

/** @returns {import('./types.mjs').Contender} */
export function simdnn(binary, { threads } = {}) {
  let nn;
  const base = binary === 'relaxed' ? 'simdnn-relaxed' : 'simdnn-simd';
  return {
    id: threads ? `${base}-${threads}t` : base,
    label: `${binary === 'relaxed' ? 'simdnn (relaxed SIMD)' : 'simdnn (SIMD128)'}${threads ? `, predictAsync and fit on ${threads} threads` : ''}`,
    isSimdnn: !threads,
    threads,
    binary,
    nodeFlags: binary === 'relaxed' ? ['--experimental-wasm-relaxed-simd'] : [],

    supports: () => true,

    /** Formats the import timing loads (lib/import-timing.mjs). */
    importFormats: ['onnx', 'safetensors', 'simdnn', 'tfjs', 'build'],
    /** The initialised runtime (after init()), for the import timing. */
    runtime: () => nn,

    async init() {
      const mod = await import(ENTRY.href);
      // threads: 1 unless this is a multi-thread contender (the default, 'auto', would let fit use the pool).
      nn = await mod.init({ simd: binary, threads: threads ?? 1 });
      if (nn.features.binary !== binary) {
        throw new Error(`asked for the ${binary} binary but simdnn loaded ${nn.features.binary}`);
      }
      if (nn.features.threads !== (threads ?? 1)) throw new Error(`asked for ${threads ?? 1} thread(s) but simdnn runs ${nn.features.threads}`);
      return {
        version: VERSION, binary: nn.features.binary, relaxedSimdEngine: nn.features.relaxedSimd,
        ...(threads ? { threads: nn.features.threads, sharedMemory: nn.features.sharedMemory } : {}),
      };
    },

    async setup(w) {
      if (w.kind === 'elementwise') {
        const { op, cols } = w;
        const run = op === 'softmax' ? (x) => nn.softmax(x, cols) : (x) => nn.activate(op, x);
        const out = new Float32Array(w.elements);
        const runInto = op === 'softmax' ? (x) => nn.softmax(x, cols, out) : (x) => nn.activate(op, x, undefined, out);
        return { run, runInto, dispose() {} };
      }
      if (w.kind === 'train') return trainInstance(nn, w, threads);
      const { layers } = w.data();
      const model = nn.sequential(specOf(layers));
      const batch = w.batch;
      const out = new Float32Array(batch * w.outputs);
      if (threads) {
        // The same result as predict, bit for bit, from the worker pool (rows split between threads;
        // one row: a wide layer's units).
        return { run: (x) => model.predictAsync(x, batch), dispose: () => model.dispose() };
      }
      return {
        run: (x) => model.predict(x, batch),
        runInto: (x) => model.predictInto(x, out, batch),
        dispose: () => model.dispose(),
      };
    },

    async footprint() {
      return footprintOf({
        js: await bundleBytes('../dist/index.js'),
        wasm: filesBytes([`build/simdnn-${binary === 'relaxed' ? 'relaxed' : 'simd'}.wasm`]),
        note: `esbuild --bundle --minify of dist/index.js (browser entry) + build/simdnn-${binary === 'relaxed' ? 'relaxed' : 'simd'}.wasm`,
      });
    },
  };
}

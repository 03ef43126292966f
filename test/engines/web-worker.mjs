// A module Web Worker (page.html starts it with new Worker(url, { type: 'module' })) that imports
// simdnn's browser bundle, dist/index.js, by URL, as a worker script without a bundler does (import
// maps do not reach workers in every browser), and finds its binary beside it (../build/*.wasm).
// Messages:
//   { type: 'case', name }        → { type: 'case', result }    a case of cases.mjs, run in the worker
//   { type: 'load', simd }        → { type: 'loaded', binary }  init({ simd }) and the smoke model
//   { type: 'predict', x, batch } → { type: 'result', y, received } with y's buffer transferred back;
//                                   received describes the x that arrived (transferred by the page)
//   any failure                   → { type: 'error', code, message } (a SimdnnError crosses as data)
import * as simdnn from '/dist/index.js';
import { runCase } from './cases.mjs';
import { modelSpec } from './smoke.mjs';

let model;
self.onmessage = async ({ data }) => {
  try {
    if (data.type === 'case') {
      // Inside these workers the pool check runs on one thread (predictAsync inline): a pool of
      // workers started from a worker is tested in Chromium (test/workers/); in Firefox, one full
      // engine run in six timed out in that case, which is not understood yet.
      self.postMessage({ type: 'case', result: await runCase(simdnn, data.name, {}, { poolThreads: 1 }) });
    } else if (data.type === 'load') {
      const nn = await simdnn.init({ simd: data.simd });
      model?.dispose();
      model = nn.sequential(modelSpec());
      self.postMessage({ type: 'loaded', binary: nn.features.binary });
    } else if (data.type === 'predict') {
      const received = { isFloat32Array: data.x instanceof Float32Array, length: data.x.length };
      const y = model.predict(data.x, data.batch);
      self.postMessage({ type: 'result', y, received }, [y.buffer]);
    } else {
      throw new Error(`unknown message type ${data.type}`);
    }
  } catch (err) {
    self.postMessage({ type: 'error', code: err?.code ?? 'ERROR', isSimdnnError: err instanceof simdnn.SimdnnError, message: err?.message ?? String(err) });
  }
};

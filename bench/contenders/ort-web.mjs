// ONNX Runtime Web 1.30 in Node: the WebAssembly CPU backend (its only wasm binary is the SIMD one),
// numThreads = 1 so it runs on the calling thread without workers.

import { filesBytes, footprintOf } from '../lib/footprint.mjs';
import { ortContender } from './ort-common.mjs';

const DIST = 'bench/node_modules/onnxruntime-web/dist/';

/** ORT Web on `threads` wasm threads (1: the single-thread contender, `ort-web`, without workers). */
export const ortWeb = (threads = 1) => ortContender({
  id: threads === 1 ? 'ort-web' : `ort-web-${threads}t`,
  label: `ORT Web 1.30 (wasm SIMD, ${threads === 1 ? '1 thread' : `${threads} threads`})`,
  sessionOptions: { executionProviders: ['wasm'] },

  async load() {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    // 1.30 ships one wasm binary (SIMD; threads unused with numThreads = 1): an fs trace shows Node
    // loading onnxruntime-web/dist/ort-wasm-simd-threaded.wasm.
    return { ort, info: { version: ort.env.versions?.web, executionProvider: 'wasm', numThreads: ort.env.wasm.numThreads, binary: 'ort-wasm-simd-threaded.wasm' } };
  },

  async footprint() {
    const js = [`${DIST}ort.wasm.min.mjs`, `${DIST}ort-wasm-simd-threaded.mjs`];
    const wasm = [`${DIST}ort-wasm-simd-threaded.wasm`];
    return footprintOf({
      js: filesBytes(js), wasm: filesBytes(wasm),
      note: 'ort.wasm.min.mjs + ort-wasm-simd-threaded.mjs + ort-wasm-simd-threaded.wasm',
    });
  },
});

export default ortWeb();

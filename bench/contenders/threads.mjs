// Contenders on more than one thread, for the batched MLP rows (and dense 4096² batch 1, to show what
// a split would do there): simdnn's model.predictAsync with a pool of N workers (init({ threads })),
// ONNX Runtime Node with N intra-op threads, and ONNX Runtime Web with N wasm threads. The one-thread
// figures are the single-thread contenders' (simdnn's predict, ORT's intraOpNumThreads = 1).

import { availableParallelism } from 'node:os';
import { ortContender } from './ort-common.mjs';
import { simdnn } from './simdnn.mjs';

/** Only where threads can matter: MLPs at batch ≥ 256 and the one large dense layer. */
const threaded = (w) => (w.kind === 'mlp' && w.batch >= 256) || (w.kind === 'dense' && w.inputs >= 4096);

/** The thread counts to report: 2, and 4 where the machine has the cores. */
export const THREAD_COUNTS = availableParallelism() >= 4 ? [2, 4] : [2];

/** simdnn's predictAsync on `threads` workers (relaxed binary, as simdnn-relaxed). */
export function simdnnThreads(threads) {
  const base = simdnn('relaxed', { threads });
  return {
    ...base,
    id: `simdnn-relaxed-${threads}t`,
    label: `simdnn (relaxed SIMD), predictAsync on ${threads} threads`,
    threads,
    supports: threaded,
    async setup(w) {
      const inner = await base.setup(w, { async: true });
      return inner;
    },
  };
}

export function ortNodeThreads(threads) {
  return {
    ...ortContender({
      id: `ort-node-${threads}t`,
      label: `ORT Node 1.30 (native, ${threads} intra-op threads)`,
      sessionOptions: { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 },
      async load() {
        const ort = await import('onnxruntime-node');
        return { ort, info: { version: ort.env.versions?.node ?? ort.env.versions?.common, executionProvider: 'cpu', intraOpNumThreads: threads } };
      },
      async footprint() { return undefined; },
    }),
    threads,
    supports: threaded,
  };
}

export function ortWebThreads(threads) {
  return {
    ...ortContender({
      id: `ort-web-${threads}t`,
      label: `ORT Web 1.30 (wasm SIMD, ${threads} threads)`,
      sessionOptions: { executionProviders: ['wasm'] },
      async load() {
        const ort = await import('onnxruntime-web');
        ort.env.wasm.numThreads = threads;
        ort.env.wasm.proxy = false;
        ort.env.logLevel = 'error';
        return { ort, info: { version: ort.env.versions?.web, executionProvider: 'wasm', numThreads: threads } };
      },
      async footprint() { return undefined; },
    }),
    threads,
    supports: threaded,
  };
}

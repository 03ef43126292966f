// Contenders on more than one thread, for the batched MLP rows and dense 4096² at batch 1: simdnn's
// model.predictAsync on a pool of N workers (init({ threads: N }), relaxed binary), ONNX Runtime Node
// with N intra-op threads and ONNX Runtime Web with N wasm threads. Their one-thread figures are the
// single-thread contenders' (simdnn-relaxed's predict, ort-node and ort-web).

import { availableParallelism } from 'node:os';
import { ortContender } from './ort-common.mjs';
import { simdnn } from './simdnn.mjs';

const only = (w) => (w.threads ? true : 'the multi-thread contenders run only the thread-comparison rows (batched MLPs, dense 4096²)');

/** The thread counts to report: 2, and 4 where the machine has the cores. */
export const THREAD_COUNTS = availableParallelism() >= 4 ? [2, 4] : [2];

export function simdnnThreads(threads) {
  // Import timing is the single-thread contenders' (loading a model does not use the pool).
  return { ...simdnn('relaxed', { threads }), supports: only, importFormats: undefined };
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
      async footprint() { return null; },
    }),
    threads,
    supports: only,
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
      async footprint() { return null; },
    }),
    threads,
    supports: only,
  };
}

export const THREADED = THREAD_COUNTS.flatMap((n) => [simdnnThreads(n), ortNodeThreads(n), ortWebThreads(n)]);

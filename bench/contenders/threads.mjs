// Contenders on more than one thread, for the batched MLP rows, dense 4096² at batch 1 and a training
// step: simdnn's model.predictAsync and model.fit on a pool of N workers (init({ threads: N }),
// relaxed binary), ONNX Runtime Node
// with N intra-op threads and ONNX Runtime Web with N wasm threads. Their one-thread figures are the
// single-thread contenders' (simdnn-relaxed's predict, ort-node and ort-web).

import { availableParallelism } from 'node:os';
import { ortNode } from './ort-node.mjs';
import { ortWeb } from './ort-web.mjs';
import { simdnn } from './simdnn.mjs';

const only = (c) => (w) => (w.threads ? c.supports(w) : 'the multi-thread contenders run only the thread-comparison rows (batched MLPs, dense 4096², a training step)');

/** The thread counts to report: 2, and 4 where the machine has the cores. */
export const THREAD_COUNTS = availableParallelism() >= 4 ? [2, 4] : [2];

/** Only the thread-comparison rows; no import timing or footprint of their own (the one-thread
 *  contenders report those). */
const threaded = (c, threads) => ({ ...c, threads, supports: only(c), importFormats: undefined, footprint: async () => null });

export const THREADED = THREAD_COUNTS.flatMap((n) => [
  threaded(simdnn('relaxed', { threads: n }), n), threaded(ortNode(n), n), threaded(ortWeb(n), n),
]);

// ONNX Runtime Node 1.30: the native CPU execution provider (MLAS), one intra-op and one inter-op
// thread, so it competes on one core like every other contender.

import { readdirSync } from 'node:fs';
import { bundleBytes, filesBytes, footprintOf } from '../lib/footprint.mjs';
import { ortContender } from './ort-common.mjs';

const NATIVE_DIR = 'bench/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/';

/** ORT Node on `threads` intra-op threads (1: the single-thread contender, `ort-node`). */
export const ortNode = (threads = 1) => ortContender({
  id: threads === 1 ? 'ort-node' : `ort-node-${threads}t`,
  label: `ORT Node 1.30 (native, ${threads === 1 ? '1 thread' : `${threads} intra-op threads`})`,
  sessionOptions: { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 },

  async load() {
    const ort = await import('onnxruntime-node');
    return { ort, info: { version: ort.env.versions?.node ?? ort.env.versions?.common, executionProvider: 'cpu', intraOpNumThreads: threads, interOpNumThreads: 1 } };
  },

  async footprint() {
    let native = 0;
    try {
      native = filesBytes(readdirSync(new URL(`../../${NATIVE_DIR}`, import.meta.url)).map((f) => NATIVE_DIR + f), { gzip: false }).raw;
    } catch { /* other platforms: leave 0 */ }
    return footprintOf({
      js: await bundleBytes('onnxruntime-common'),
      native,
      note: `native: ${NATIVE_DIR}{libonnxruntime.so.1, onnxruntime_binding.node}; js: onnxruntime-common bundled (+ a few KB of onnxruntime-node glue)`,
    });
  },
});

export default ortNode();

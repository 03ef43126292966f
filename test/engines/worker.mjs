// A Cloudflare Worker (ES module syntax) running simdnn in workerd. workerd refuses to compile
// WebAssembly from bytes at run time, so the binaries come in as wasm module bindings (compiled
// WebAssembly.Module objects) and go to init({ wasm }).
import * as simdnn from 'simdnn';
import simdWasm from './simdnn-simd.wasm';
import relaxedWasm from './simdnn-relaxed.wasm';
import { runCase } from './cases.mjs';
import { initError } from './smoke.mjs';
import { firstInference } from './startup.mjs';

const wasm = { baseline: simdWasm, relaxed: relaxedWasm };

export default {
  async fetch(request) {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/startup') {
        const nn = await simdnn.init({ wasm });
        return Response.json({ binary: nn.features.binary, y: firstInference(nn) });
      }
      if (url.pathname === '/smoke') {
        const results = {};
        for (const name of url.searchParams.getAll('simd')) results[name] = await runCase(simdnn, name, { wasm });
        // Without init({ wasm }): what a worker that forgot the binding gets.
        results['no-wasm-option'] = await initError(simdnn, { simd: 'baseline' });
        return Response.json({ engine: `workerd ${navigator.userAgent}`, results });
      }
      return new Response('not found', { status: 404 });
    } catch (err) {
      return Response.json({ error: String(err?.stack ?? err), code: err?.code }, { status: 500 });
    }
  },
};

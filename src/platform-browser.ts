import type { Binary, Platform } from './wasm/loader.js';

/** Browsers, workers and bundlers: the binary sits beside this module; `new URL(…, import.meta.url)`
 *  is the pattern Vite and webpack 5 recognise and emit as an asset. Never imports `node:` modules. */
export const browserPlatform: Platform = {
  defaultLocation(binary: Binary): URL {
    return binary === 'relaxed'
      ? new URL('../build/simdnn-relaxed.wasm', import.meta.url)
      : new URL('../build/simdnn-simd.wasm', import.meta.url);
  },
  fetchBinary(location: string | URL): Promise<Response> {
    return fetch(location);
  },
  workerLocation(): URL {
    return new URL('../dist/worker.js', import.meta.url);
  },
  cores(): number {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: unknown } }).navigator?.hardwareConcurrency;
    return typeof n === 'number' && n >= 1 ? Math.floor(n) : 1;
  },
};

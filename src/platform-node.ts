import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Binary, Platform } from './runtime/loader.js';

/** Node: the binaries are files in the package's build/ folder, read with fs. */
export const nodePlatform: Platform = {
  defaultLocation(binary: Binary): URL {
    return new URL(`../build/simdnn-${binary === 'relaxed' ? 'relaxed' : 'simd'}.wasm`, import.meta.url);
  },
  async fetchBinary(location: string | URL): Promise<Uint8Array | Response> {
    const text = String(location);
    if (/^(https?|data|blob):/i.test(text)) return fetch(text);
    return readFile(location instanceof URL || text.startsWith('file:') ? fileURLToPath(location) : text);
  },
};

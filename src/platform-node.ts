import type { Binary, Platform } from './runtime/loader.js';

/** The fs and url builtins. `process.getBuiltinModule` (Node ≥ 20.16) hands them over without the
 *  ESM loader: a static `import … from 'node:fs/promises'` adds about 1 ms to a cold import. */
async function builtins(): Promise<{ readFile: typeof import('node:fs/promises').readFile; fileURLToPath: typeof import('node:url').fileURLToPath }> {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get === 'function') {
    const fs = get('node:fs') as typeof import('node:fs');
    const url = get('node:url') as typeof import('node:url');
    return { readFile: fs.promises.readFile, fileURLToPath: url.fileURLToPath };
  }
  const [fs, url] = await Promise.all([import('node:fs/promises'), import('node:url')]);
  return { readFile: fs.readFile, fileURLToPath: url.fileURLToPath };
}

/** Node: the binaries are files in the package's build/ folder, read with fs. */
export const nodePlatform: Platform = {
  compileSync: true,
  defaultLocation(binary: Binary): URL {
    return new URL(`../build/simdnn-${binary === 'relaxed' ? 'relaxed' : 'simd'}.wasm`, import.meta.url);
  },
  async fetchBinary(location: string | URL): Promise<Uint8Array | Response> {
    const text = String(location);
    if (/^(https?|data|blob):/i.test(text)) return fetch(text);
    const { readFile, fileURLToPath } = await builtins();
    return readFile(location instanceof URL || text.startsWith('file:') ? fileURLToPath(location) : text);
  },
};

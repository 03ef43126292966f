import type { Binary, Platform } from './wasm/loader.js';
import { builtin } from './builtin.js';

/** The fs and url functions the loader needs (dynamic imports where getBuiltinModule is missing). */
async function builtins(): Promise<{ readFile: typeof import('node:fs/promises').readFile; fileURLToPath: typeof import('node:url').fileURLToPath }> {
  const fs = builtin<typeof import('node:fs')>('node:fs');
  const url = builtin<typeof import('node:url')>('node:url');
  if (fs && url) return { readFile: fs.promises.readFile, fileURLToPath: url.fileURLToPath };
  const [fsp, u] = await Promise.all([import('node:fs/promises'), import('node:url')]);
  return { readFile: fsp.readFile, fileURLToPath: u.fileURLToPath };
}

/** Results at least this long (16 KiB) come from uninitialised memory; smaller ones gain nothing. */
const UNINITIALISED_FROM = 4096;

type BufferClass = { allocUnsafeSlow(size: number): Uint8Array };
let nodeBuffer: BufferClass | null | undefined;

/** Node: the binaries are files in the package's build/ folder, read with fs. */
export const nodePlatform: Platform = {
  compileSync: true,
  /**
   * Large results in memory that is not zero-filled first: `Buffer.allocUnsafeSlow` (its own
   * ArrayBuffer, not the pool). simdnn overwrites every value before returning the array, so no old
   * memory is ever visible. Zero-filling a 4 MB result and then writing it cost 0.6–1.7 ms of a
   * 1M-float activation here (page faults on fresh pages); the kernels themselves take 1–1.6 ms.
   */
  resultArray(n: number): Float32Array {
    if (n >= UNINITIALISED_FROM) {
      if (nodeBuffer === undefined) {
        const candidate = builtin<{ Buffer?: BufferClass }>('node:buffer')?.Buffer ?? (globalThis as { Buffer?: BufferClass }).Buffer;
        nodeBuffer = typeof candidate?.allocUnsafeSlow === 'function' ? candidate : null;
      }
      if (nodeBuffer) {
        const bytes = nodeBuffer.allocUnsafeSlow(n * 4);
        // Only when the bytes are the whole of their own ArrayBuffer (a transfer then moves exactly them).
        if (bytes.byteOffset === 0 && bytes.buffer.byteLength === n * 4) return new Float32Array(bytes.buffer, 0, n);
      }
    }
    return new Float32Array(n);
  },
  workerLocation(): URL {
    return new URL('../dist/worker.js', import.meta.url);
  },
  cores(): number {
    const os = builtin<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
    const n = os ? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) : 1;
    return n >= 1 ? n : 1;
  },
  defaultLocation(binary: Binary): URL {
    return new URL(`../build/simdnn-${binary === 'relaxed' ? 'relaxed' : 'simd'}.wasm`, import.meta.url);
  },
  async readFile(location: URL): Promise<Uint8Array> {
    const { readFile, fileURLToPath } = await builtins();
    const data = await readFile(fileURLToPath(location));
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  },
  fileUrl(path: string): URL {
    const url = builtin<typeof import('node:url')>('node:url');
    if (!url) throw new Error('simdnn: node:url is not available (Node ≥ 20.16 has process.getBuiltinModule)');
    return url.pathToFileURL(path);
  },
  async fetchBinary(location: string | URL): Promise<Uint8Array | Response> {
    const text = String(location);
    if (/^(https?|data|blob):/i.test(text)) return fetch(text);
    const { readFile, fileURLToPath } = await builtins();
    return readFile(location instanceof URL || text.startsWith('file:') ? fileURLToPath(location) : text);
  },
};

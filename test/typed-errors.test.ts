// Failures that used to escape as raw engine errors (RangeError, TypeError) and are now typed:
// memory that cannot be reserved, results larger than the engine allocates, layers whose size
// overflows, binaries that cannot be read. Runs in Node and in the browser projects.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../src/node.js';
import { SIMD } from './runtime.js';
import { wasmModule } from './hardening.js';

const wasmBytes = async () => {
  const url = new URL(`../build/${SIMD === 'relaxed' ? 'simdnn-relaxed.wasm' : 'simdnn-simd.wasm'}`, import.meta.url);
  if (typeof process !== 'undefined' && process.versions?.node && typeof window === 'undefined') {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
};

describe(`typed errors instead of raw ones (${SIMD} binary)`, () => {
  it('init: WebAssembly.Memory that cannot be reserved is OUT_OF_MEMORY (not a RangeError)', async () => {
    const wasm = await wasmModule(SIMD);
    const Memory = WebAssembly.Memory;
    (WebAssembly as { Memory: unknown }).Memory = function () { throw new RangeError('WebAssembly.Memory(): could not allocate memory'); };
    try {
      await expect(createRuntime({ simd: SIMD, wasm })).rejects.toMatchObject({
        name: 'SimdnnError', code: 'OUT_OF_MEMORY', message: expect.stringMatching(/could not reserve WebAssembly memory.*smaller maximumMemory/),
      });
    } finally {
      (WebAssembly as { Memory: unknown }).Memory = Memory;
    }
  });

  it('init({ wasm }): a detached buffer, a consumed Response, a rejecting promise are WASM_LOAD_FAILED with the cause', async () => {
    const bytes = await wasmBytes();
    const detached = bytes.slice().buffer;
    const detachedView = new Uint8Array(detached);
    structuredClone(detached, { transfer: [detached] });
    const consumed = new Response(bytes.slice(), { headers: { 'content-type': 'application/octet-stream' } });
    await consumed.arrayBuffer();
    const cause = new Error('network down');
    for (const wasm of [detached, detachedView, consumed, Promise.reject(cause)]) {
      const err = await createRuntime({ simd: SIMD, wasm: wasm as never }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'SimdnnError', code: 'WASM_LOAD_FAILED' });
      expect((err as Error).cause ?? (err as Error).message).toBeTruthy();
    }
    const rejected = await createRuntime({ simd: SIMD, wasm: Promise.reject(cause) as never }).catch((e: unknown) => e);
    expect((rejected as Error).cause).toBe(cause);
  });

  it('a layer of units × inputs = 2^48 with short weights is INVALID_WEIGHTS at once, nothing allocated', async () => {
    const nn = await createRuntime({ simd: SIMD, wasm: await wasmModule(SIMD) });
    const before = nn.memory();
    for (const weights of [[[1]], [1, 2, 3], new Float32Array(3)]) {
      expect(() => nn.dense({ inputs: 2 ** 24, units: 2 ** 24, weights })).toThrow(expect.objectContaining({ code: 'INVALID_WEIGHTS' }));
    }
    expect(nn.memory()).toEqual(before);
    nn.dispose();
  });
});

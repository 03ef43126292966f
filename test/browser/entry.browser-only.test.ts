// The browser entry in a real browser: it fetches its own binary from beside the module, 'auto'
// picks relaxed SIMD where the browser has it, and every init({ wasm }) form works.
import { describe, expect, it } from 'vitest';
import { entry, IN_BROWSER, SIMD } from '../runtime.js';

const wasmUrl = (simd: string) =>
  new URL(`../../build/simdnn-${simd === 'relaxed' ? 'relaxed' : 'simd'}.wasm`, import.meta.url);

describe(`browser entry (${SIMD} binary)`, () => {
  it('runs in a browser, not in Node', () => {
    expect(IN_BROWSER).toBe(true);
    expect(typeof document).toBe('object');
    expect(navigator.userAgent).toMatch(/Chrome\//);
  });

  it("init({ simd: 'auto' }) loads the relaxed binary in Chromium", async () => {
    const { init, detectFeatures } = await entry;
    expect(detectFeatures()).toEqual({ simd: true, relaxedSimd: true });
    const nn = await init();
    // This page is not cross-origin isolated: a pool would hold copies (threads: the cores, at most 8).
    expect(nn.features).toEqual({
      binary: 'relaxed', simd: true, relaxedSimd: true, sharedMemory: false,
      threads: Math.min(navigator.hardwareConcurrency, 8),
    });
  });

  it('init({ wasm }) accepts a URL, a Response, bytes and a compiled module', async () => {
    const { createRuntime } = await entry;
    const url = wasmUrl(SIMD);
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const module = await WebAssembly.compile(bytes);
    const x = Float32Array.of(-2, -0.5, 0, 0.5, 2);
    for (const wasm of [url, url.href, fetch(url), await fetch(url), bytes, bytes.buffer, module]) {
      const nn = await createRuntime({ simd: SIMD, wasm });
      expect(nn.features.binary).toBe(SIMD);
      expect(Array.from(nn.relu(x))).toEqual([0, 0, 0, 0.5, 2]);
    }
  });

  it('a Response without the application/wasm type still loads (no streaming compile)', async () => {
    const { createRuntime } = await entry;
    const bytes = await (await fetch(wasmUrl(SIMD))).arrayBuffer();
    const wasm = new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } });
    const nn = await createRuntime({ simd: SIMD, wasm });
    expect(Array.from(nn.relu(Float32Array.of(-1, 1)))).toEqual([0, 1]);
  });

  it('a 404 names the URL and the init({ wasm }) fix', async () => {
    const { createRuntime } = await entry;
    const missing = new URL('/no/such/simdnn.wasm', location.href);
    const err = await createRuntime({ simd: SIMD, wasm: missing }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SimdnnError', code: 'WASM_LOAD_FAILED' });
    expect((err as Error).message).toContain(missing.href);
    expect((err as Error).message).toContain('init({ wasm');
  });

  it('an HTML page instead of the binary says so and names the fix', async () => {
    const { createRuntime } = await entry;
    const html = new Response('<!doctype html><title>Not found</title>', { headers: { 'content-type': 'text/html' } });
    const err = await createRuntime({ simd: SIMD, wasm: html }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WASM_LOAD_FAILED' });
    expect((err as Error).message).toMatch(/HTML page/);
    expect((err as Error).message).toContain('init({ wasm');
  });
});

// simdnn inside a Web Worker (browser projects only): the worker loads the binary itself (fetch from
// its own module URL), predicts off the main thread, and transfers the result back.
import { describe, expect, it, afterAll } from 'vitest';
import { runtime, SIMD } from '../runtime.js';
import { SPEC, inputs } from './model.js';

interface Reply { type: string; id?: number; y?: Float32Array; binary?: string; code?: string; message?: string }

function call(worker: Worker, message: unknown, transfer: Transferable[] = []): Promise<Reply> {
  return new Promise((resolve, reject) => {
    worker.addEventListener('message', (e: MessageEvent<Reply>) => resolve(e.data), { once: true });
    worker.addEventListener('error', (e) => reject(new Error(`worker error: ${e.message}`)), { once: true });
    worker.postMessage(message, transfer);
  });
}

describe(`Web Worker (${SIMD} binary)`, () => {
  const worker = new Worker(new URL('./simdnn.worker.ts', import.meta.url), { type: 'module' });
  afterAll(() => worker.terminate());

  it('loads simdnn in the worker and predicts exactly what the main thread predicts', async () => {
    const loaded = await call(worker, { type: 'load', simd: SIMD, spec: SPEC });
    expect(loaded).toMatchObject({ type: 'loaded', binary: SIMD, inputs: 8, outputs: 4 });

    const batch = 64;
    const x = inputs(batch);
    const model = (await runtime()).sequential(SPEC);
    const expected = model.predict(x, batch);
    model.dispose();
    const copy = x.slice();
    const reply = await call(worker, { type: 'predict', id: 1, x: copy, batch }, [copy.buffer]);
    expect(copy.byteLength).toBe(0); // the input was transferred, not copied
    expect(reply.type).toBe('result');
    expect(reply.id).toBe(1);
    expect(Array.from(reply.y!)).toEqual(Array.from(expected));
  });

  it('a worker that itself runs a pool of workers (predictAsync, threads: 2) predicts the same bits', async () => {
    const spec = {
      inputs: 256,
      layers: [{ type: 'dense' as const, units: 300, activation: 'relu' as const }, { type: 'dense' as const, units: 7, activation: 'softmax' as const }],
    };
    const nn = await runtime();
    const model = nn.sequential(spec, { seed: 4 });
    const full = model.toJSON();
    const batch = 101;
    const x = Float32Array.from({ length: batch * 256 }, (_, i) => Math.sin(i * 0.3));
    const expected = model.predict(x, batch);
    model.dispose();
    const reply = await call(worker, { type: 'predictThreads', id: 3, x, batch, simd: SIMD, spec: full });
    expect(reply).toMatchObject({ type: 'result', id: 3, threads: 2 });
    expect((reply as { unavailable?: string }).unavailable).toBeUndefined();
    expect(Array.from(reply.y!)).toEqual(Array.from(expected));
  });

  it('reports a SimdnnError code from the worker', async () => {
    const reply = await call(worker, { type: 'predict', id: 2, x: new Float32Array(3), batch: 1 });
    expect(reply).toMatchObject({ type: 'error', id: 2, code: 'SHAPE_MISMATCH' });
  });
});

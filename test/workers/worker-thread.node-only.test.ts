// simdnn inside a Node worker thread, importing the built package by name (self-reference to
// dist/node.js: run `npm run build` first). Predicts off the main thread, transfers the result back,
// and several workers each get their own runtime and memory.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { runtime, SIMD } from '../runtime.js';
import { SPEC, inputs } from './model.js';

interface Reply { type: string; id?: number; y?: Float32Array; binary?: string; code?: string }

function call(worker: Worker, message: unknown, transfer: ArrayBuffer[] = []): Promise<Reply> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.postMessage(message, transfer);
  });
}

describe(`Node worker thread (${SIMD} binary)`, () => {
  beforeAll(() => {
    if (!existsSync(new URL('../../dist/node.js', import.meta.url))) {
      throw new Error('dist/node.js is missing: run `npm run build` before the tests');
    }
  });
  const workers: Worker[] = [];
  afterAll(() => Promise.all(workers.map((w) => w.terminate())));
  const spawn = () => {
    const w = new Worker(new URL('./node-worker.mjs', import.meta.url));
    workers.push(w);
    return w;
  };

  it('loads simdnn in worker threads and predicts exactly what the main thread predicts', async () => {
    const batch = 64;
    const x = inputs(batch);
    const model = (await runtime()).sequential(SPEC);
    const expected = Array.from(model.predict(x, batch));
    model.dispose();
    const pool = [spawn(), spawn()];
    const loaded = await Promise.all(pool.map((w) => call(w, { type: 'load', simd: SIMD, spec: SPEC })));
    for (const l of loaded) expect(l).toMatchObject({ type: 'loaded', binary: SIMD, inputs: 8, outputs: 4 });
    const replies = await Promise.all(pool.map((w, i) => {
      const copy = x.slice();
      return call(w, { type: 'predict', id: i, x: copy, batch }, [copy.buffer]);
    }));
    replies.forEach((r, i) => {
      expect(r).toMatchObject({ type: 'result', id: i });
      expect(Array.from(r.y!)).toEqual(expected);
    });
  });

  it('reports a SimdnnError code from the worker', async () => {
    const w = spawn();
    await call(w, { type: 'load', simd: SIMD, spec: SPEC });
    expect(await call(w, { type: 'predict', id: 9, x: new Float32Array(3), batch: 1 })).toMatchObject({
      type: 'error', id: 9, code: 'SHAPE_MISMATCH',
    });
  });
});


// The worker pool behind model.predictAsync (init({ threads })): results bit-identical to predict()
// for every thread count and awkward batch sizes, on every layer type; weights that change (setWeights,
// trainStep) reach the workers; disposal, close() and many models on one pool. Runs in Node
// (worker_threads) and in the browser projects (module Web Workers), on both binaries.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SimdnnError, type Runtime, type Sequential } from '../src/node.js';
import { createRuntime, entry, IN_BROWSER, SIMD } from './runtime.js';
import { wasmModule } from './hardening.js';

const INPUTS = 1000;

/** Every kind of descriptor a worker copies: dense (packed panels), a PReLU slope block, a standalone
 *  batch norm (affine block), an activation layer and softmax. Seeded, so each call builds the same.
 *  About 4.1M multiply-adds per row: even 2 rows are past the pool's threshold (2^22), so every
 *  batch from 2 up really is split between the workers. */
function model(nn: Runtime): Sequential {
  return nn.sequential({
    inputs: INPUTS,
    layers: [
      { type: 'dense', units: 2051, activation: 'relu' },
      { type: 'dense', units: 1003, activation: { name: 'prelu', slope: Array.from({ length: 1003 }, (_, i) => 0.001 * (i + 1)) } },
      { type: 'batchNorm', mean: Array.from({ length: 1003 }, (_, i) => i / 1000), variance: Array.from({ length: 1003 }, (_, i) => 1 + i / 700), epsilon: 1e-3 },
      { type: 'activation', activation: 'tanh' },
      { type: 'dense', units: 11, activation: 'softmax' },
    ],
  }, { seed: 7 });
}

function rows(batch: number, salt = 0): Float32Array {
  return Float32Array.from({ length: batch * INPUTS }, (_, i) => Math.sin(i * 0.731 + salt) * 3);
}

/** Indices where two arrays differ bit for bit (NaN equals NaN with the same bits). */
function differences(a: Float32Array, b: Float32Array): number[] {
  expect(b.length).toBe(a.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) out.push(i);
  return out;
}

/** Shared memory where the engine allows it (Node; a cross-origin isolated page), else copies. */
const CAN_SHARE = typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;

const runtimes: Runtime[] = [];
/** A runtime with `threads` threads. 'copies' passes a compiled module to init(), which simdnn cannot
 *  rewrite into its shared-memory variant: the workers then hold copies, as in a page without COOP/COEP. */
async function threaded(threads: number, mode: Mode): Promise<Runtime> {
  const nn = await createRuntime({ threads, ...(mode === 'copies' ? { wasm: await wasmModule(SIMD) } : {}) });
  runtimes.push(nn);
  expect(nn.features.sharedMemory).toBe(mode === 'shared' && threads > 1);
  return nn;
}
type Mode = 'shared' | 'copies';
const MODES: Mode[] = CAN_SHARE ? ['shared', 'copies'] : ['copies'];
afterAll(async () => {
  for (const nn of runtimes) {
    await nn.close();
    nn.dispose();
  }
});

it('shares memory where the page is cross-origin isolated (the browser-isolated project) and in Node', () => {
  if (inject('isolated')) expect((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated).toBe(true);
  if (inject('isolated') || !IN_BROWSER) expect(MODES).toContain('shared');
  else expect(MODES).toEqual(['copies']);
});

it.runIf(CAN_SHARE)('shared mode moves into shared memory when the pool starts: models made, trained and freed before give the same bits after, and go on training and allocating', async () => {
  const nn = await threaded(2, 'shared');
  // Before the pool: models, one trained two steps, one disposed (a free block in the middle).
  const a = model(nn);
  const gone = model(nn);
  const spec = { inputs: 64, layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 4, activation: 'softmax' }] } as const;
  const t = nn.sequential(spec, { seed: 3 });
  const tx = Float32Array.from({ length: 16 * 64 }, (_, i) => Math.cos(i * 0.1));
  const ty = Int32Array.from({ length: 16 }, (_, i) => i % 4);
  const step = { loss: 'crossEntropy', optimizer: 'adam' } as const;
  t.trainStep(tx, ty, 16, step);
  gone.dispose();
  const xs = rows(300, 5);
  const before = a.predict(xs, 300);
  const trained = t.predict(tx, 16);
  // The first call that uses the pool starts it (and the move); its result is predict's.
  expect(differences(await a.predictAsync(xs, 300), before)).toEqual([]);
  expect(differences(a.predict(xs, 300), before)).toEqual([]);
  expect(differences(t.predict(tx, 16), trained)).toEqual([]);
  // Training goes on from the optimizer state it had: the weights of a runtime that never moved.
  t.trainStep(tx, ty, 16, step);
  const one = await createRuntime({ threads: 1 });
  runtimes.push(one);
  const u = one.sequential(spec, { seed: 3 });
  u.trainStep(tx, ty, 16, step);
  u.trainStep(tx, ty, 16, step);
  expect(t.getWeights()).toEqual(u.getWeights());
  // Allocation goes on in the new memory: the free block, then growth (an 8 MiB layer).
  const c = model(nn);
  expect(differences(await c.predictAsync(xs, 300), c.predict(xs, 300))).toEqual([]);
  const big = nn.sequential({ layers: [{ type: 'dense', inputs: 512, units: 4096, activation: 'relu' }] }, { seed: 1 });
  const bigOne = one.sequential({ layers: [{ type: 'dense', inputs: 512, units: 4096, activation: 'relu' }] }, { seed: 1 });
  const x512 = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i));
  expect(differences(big.predict(x512), bigOne.predict(x512))).toEqual([]);
  for (const m of [a, c, t, big]) m.dispose();
  expect(nn.memory().bytes).toBe(0);
});

describe.each(MODES)('predictAsync, %s', (mode) => {
  for (const threads of [1, 2, 3]) {
    it(`is bit-identical to predict with ${threads} thread(s) on batches 1, 2, 3, 7, 255, 1025`, async () => {
      const nn = await threaded(threads, mode);
      expect(nn.features.threads).toBe(threads);
      const m = model(nn);
      for (const batch of [1, 2, 3, 7, 255, 1025]) {
        const x = rows(batch, batch);
        const expected = m.predict(x, batch);
        const got = await m.predictAsync(x, batch);
        expect(differences(expected, got), `batch ${batch}`).toEqual([]);
      }
      // A wide model, so that the call is large enough to be split between the workers.
      const wide = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 300, activation: 'gelu' }, { type: 'dense', units: 5 }] }, { seed: 3 });
      for (const batch of [7, 64, 255]) {
        const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.cos(i * 0.37));
        expect(differences(wide.predict(x, batch), await wide.predictAsync(x, batch)), `wide, batch ${batch}`).toEqual([]);
      }
      // The workers really ran (a pool that cannot start falls back to one thread and says so).
      expect(nn.features.threadsUnavailable).toBeUndefined();
      expect(nn.features.threads).toBe(threads);
      m.dispose();
      wide.dispose();
    });
  }

  it('writes into out, copies the rows when called, and checks its arguments', async () => {
    const nn = await threaded(2, mode);
    const m = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 400, activation: 'relu' }, { type: 'dense', units: 3 }] }, { seed: 1 });
    const batch = 200;
    const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.sin(i));
    const expected = m.predict(x, batch);
    const out = new Float32Array(batch * 3).fill(Number.NaN);
    const pending = m.predictAsync(x, batch, out);
    x.fill(1e6); // the call already copied its rows
    expect(await pending).toBe(out);
    expect(differences(expected, out)).toEqual([]);
    await expect(m.predictAsync(x, batch + 1)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(m.predictAsync(x, batch, new Float32Array(5))).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(m.predictAsync(x, -1)).rejects.toBeInstanceOf(SimdnnError);
    expect((await m.predictAsync(new Float32Array(0), 0)).length).toBe(0);
    m.dispose();
  });

  it('sees weights that changed since the workers got their copy (setWeights, trainStep)', async () => {
    const nn = await threaded(2, mode);
    const m = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 400, activation: 'relu' }, { type: 'dense', units: 4 }] }, { seed: 5 });
    const batch = 128;
    const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.cos(i * 0.1));
    const before = await m.predictAsync(x, batch);
    const w = m.getWeights();
    w[1]!.bias.fill(10);
    m.setWeights(w);
    const afterSet = await m.predictAsync(x, batch);
    expect(differences(m.predict(x, batch), afterSet)).toEqual([]);
    expect(differences(before, afterSet).length).toBe(before.length);
    m.trainStep(x, new Float32Array(batch * 4), batch, { loss: 'mse', optimizer: 'sgd' });
    const afterStep = await m.predictAsync(x, batch);
    expect(differences(m.predict(x, batch), afterStep)).toEqual([]);
    expect(differences(afterSet, afterStep).length).toBeGreaterThan(0);
    m.dispose();
  });

  it('weights never change under a call in flight: trainStep and setWeights wait for it in shared mode', async () => {
    const nn = await threaded(2, mode);
    const m = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 400, activation: 'relu' }, { type: 'dense', units: 4 }] }, { seed: 6 });
    const batch = 128;
    const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.sin(i * 0.2));
    const expected = m.predict(x, batch);
    const pending = m.predictAsync(x, batch);
    const step = () => m.trainStep(x, new Float32Array(batch * 4), batch, { loss: 'mse', optimizer: 'sgd' });
    if (mode === 'shared') {
      expect(step).toThrow(expect.objectContaining({ code: 'REENTRANT_CALL' }));
      expect(() => m.setWeights(m.getWeights())).toThrow(/predictAsync calls of this model are running/);
    } else {
      step(); // the workers hold a copy: the call in flight keeps the weights it started with
    }
    expect(differences(expected, await pending)).toEqual([]);
    step(); // nothing in flight
    // While fit runs, a call runs on the calling thread (shared) or on the version it was sent (copies).
    let during: Promise<Float32Array> | undefined;
    await m.fit(x, new Float32Array(batch * 4), {
      epochs: 1, batchSize: 32, loss: 'mse', optimizer: 'sgd',
      onBatchEnd: (i) => { if (i === 1) during = m.predictAsync(x, batch); },
    });
    expect((await during!).length).toBe(batch * 4);
    m.dispose();
  });

  it('runs many models on one pool, in parallel calls', async () => {
    const nn = await threaded(2, mode);
    const models = Array.from({ length: 6 }, (_, i) =>
      nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 200 + 10 * i, activation: 'sigmoid' }, { type: 'dense', units: 1 + i }] }, { seed: i }));
    const batch = 99;
    const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.sin(i * 0.01));
    const expected = models.map((m) => m.predict(x, batch));
    const got = await Promise.all(models.map((m) => m.predictAsync(x, batch)));
    got.forEach((g, i) => expect(differences(expected[i]!, g), `model ${i}`).toEqual([]));
    // Disposed models leave the pool; the others keep working.
    for (const m of models.slice(0, 3)) m.dispose();
    const again = await Promise.all(models.slice(3).map((m) => m.predictAsync(x, batch)));
    again.forEach((g, i) => expect(differences(expected[i + 3]!, g)).toEqual([]));
    await expect(models[0]!.predictAsync(x, batch)).rejects.toMatchObject({ code: 'DISPOSED' });
    for (const m of models.slice(3)) m.dispose();
  });

  it('one row through wide layers (units split between threads in shared mode) is bit-identical to predict', async () => {
    for (const threads of [2, 3]) {
      const nn = await threaded(threads, mode);
      // Wide layers of 2^23+ weights with awkward unit counts (not a multiple of 8), per-unit and
      // shared PReLU, a batch norm and an activation layer between them, narrow layers, and a
      // softmax output (never split).
      const m = nn.sequential({
        inputs: 2900,
        layers: [
          { type: 'dense', units: 2897, activation: { name: 'prelu', slope: Array.from({ length: 2897 }, (_, i) => ((i % 13) - 6) / 10) } },
          { type: 'batchNorm', mean: Array.from({ length: 2897 }, (_, i) => i / 2897), variance: Array.from({ length: 2897 }, (_, i) => 1 + i / 999), epsilon: 1e-3 },
          { type: 'activation', activation: 'tanh' },
          { type: 'dense', units: 2899, activation: { name: 'prelu', slope: [0.25] } },
          { type: 'dense', units: 31, activation: 'gelu' },
          { type: 'dense', units: 7, activation: 'softmax' },
        ],
      }, { seed: 21 });
      for (const salt of [0, 1, 2]) {
        const x = Float32Array.from({ length: 2900 }, (_, i) => Math.sin(i * 0.13 + salt) * 2);
        expect(differences(m.predict(x, 1), await m.predictAsync(x, 1)), `${threads} threads, row ${salt}`).toEqual([]);
      }
      // Writes into out; the one row is copied when the call is made.
      const x = Float32Array.from({ length: 2900 }, (_, i) => Math.cos(i));
      const expected = m.predict(x, 1);
      const out = new Float32Array(7);
      const pending = m.predictAsync(x, 1, out);
      x.fill(0);
      expect(await pending).toBe(out);
      expect(differences(expected, out)).toEqual([]);
      // Two at once (the second runs on the calling thread: the model's block is busy).
      const [a, c] = await Promise.all([m.predictAsync(x, 1), m.predictAsync(x, 1)]);
      expect(differences(m.predict(x, 1), a)).toEqual([]);
      expect(differences(a, c)).toEqual([]);
      m.dispose();
    }
  });

  it('steady state: calls of one size reuse the model\'s block (shared) and allocate no memory; dispose returns all of it', async () => {
    const nn = await threaded(2, mode);
    const before = nn.memory().bytes;
    const m = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 400, activation: 'relu' }, { type: 'dense', units: 4 }] }, { seed: 6 });
    const built = nn.memory().bytes;
    const batch = 128;
    const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.sin(i * 0.2));
    const expected = m.predict(x, batch);
    await m.predictAsync(x, batch);
    const first = nn.memory().bytes;
    // Shared mode keeps the rows, results and scratch in a block of the model; copies mode sends rows.
    if (mode === 'shared') expect(first).toBeGreaterThan(built);
    for (let i = 0; i < 10; i++) {
      expect(differences(expected, await m.predictAsync(x, batch))).toEqual([]);
      expect(nn.memory().bytes).toBe(first);
    }
    // Two calls at once: the second takes a block of its own for the call, then frees it.
    const both = await Promise.all([m.predictAsync(x, batch), m.predictAsync(x, batch)]);
    both.forEach((r) => expect(differences(expected, r)).toEqual([]));
    expect(nn.memory().bytes).toBe(first);
    m.dispose();
    expect(nn.memory().bytes).toBe(before);
  });

  it('disposing a model frees it in every worker: 24 models of 8 MiB each, made, run and disposed in turn, fit in 64 MiB', async () => {
    // Each worker's memory has the runtime's maximum (copies mode: its own memory; shared: the one
    // memory). Without the workers letting go of disposed models, the third model would not fit.
    const nn = await createRuntime({ threads: 2, maximumMemory: 64 * 2 ** 20, ...(mode === 'copies' ? { wasm: await wasmModule(SIMD) } : {}) });
    runtimes.push(nn);
    const batch = 8;
    const x = Float32Array.from({ length: batch * 1024 }, (_, i) => Math.sin(i));
    const before = nn.memory();
    for (let i = 0; i < 24; i++) {
      const m = nn.sequential({ inputs: 1024, layers: [{ type: 'dense', units: 2048, activation: 'relu' }] }, { seed: i });
      const expected = m.predict(x, batch);
      expect(differences(expected, await m.predictAsync(x, batch)), `model ${i}`).toEqual([]);
      m.dispose();
    }
    expect(nn.memory()).toMatchObject({ objects: before.objects, bytes: before.bytes });
  });

  it('rejects with DISPOSED when the model is disposed while its call is in flight', async () => {
    const nn = await threaded(2, mode);
    const m = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 500, activation: 'relu' }, { type: 'dense', units: 2 }] }, { seed: 9 });
    const batch = 256;
    const pending = m.predictAsync(new Float32Array(batch * 300).fill(0.5), batch);
    m.dispose();
    await expect(pending).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('close() ends the workers, twice is fine, and a later call starts them again', async () => {
    const nn = await threaded(2, mode);
    const m = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 500, activation: 'relu' }, { type: 'dense', units: 2 }] }, { seed: 9 });
    const batch = 64;
    const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.sin(i));
    const expected = m.predict(x, batch);
    const inFlight = m.predictAsync(x, batch);
    await Promise.all([nn.close(), nn.close()]);
    expect(differences(expected, await inFlight)).toEqual([]); // close() waited for it
    expect(differences(expected, await m.predictAsync(x, batch))).toEqual([]);
    await nn.close();
    m.dispose();
  });

  it('hostile arguments: lying Proxies, re-entrant getters and odd batches are typed rejections, as in predict', async () => {
    const nn = await threaded(2, mode);
    const m = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 400, activation: 'relu' }, { type: 'dense', units: 3 }] }, { seed: 2 });
    const batch = 64;
    const good = Float32Array.from({ length: batch * 300 }, (_, i) => Math.sin(i));
    const caught = async (f: () => unknown): Promise<{ code?: string; message: string }> => {
      try {
        await f();
      } catch (err) {
        expect(err).toBeInstanceOf(SimdnnError);
        return { code: (err as SimdnnError).code, message: (err as Error).message.replace(/^model\.predict(Async)?: /, '') };
      }
      throw new Error('no error');
    };
    // A Proxy whose length lies: read through the engine's own accessors, so it is the real length.
    const lying = new Proxy(good, { get: (t, k) => (k === 'length' ? 1 << 30 : Reflect.get(t, k)) });
    expect(await caught(() => m.predictAsync(lying, batch + 1))).toEqual(await caught(() => m.predict(lying, batch + 1)));
    // A getter that calls the runtime while its argument is converted: REENTRANT_CALL, nothing sent.
    const reentrant = Array.from(good);
    Object.defineProperty(reentrant, 7, { get: () => { m.predict(good, batch); return 0; } });
    expect((await caught(() => m.predictAsync(reentrant, batch))).code).toBe('REENTRANT_CALL');
    // An out that lies about its length, a batch that is not an integer.
    const lyingOut = new Proxy(new Float32Array(5), { get: (t, k) => (k === 'length' ? batch * 3 : Reflect.get(t, k)) });
    expect((await caught(() => m.predictAsync(good, batch, lyingOut))).code).toBe('SHAPE_MISMATCH');
    expect(await caught(() => m.predictAsync(good, { valueOf: () => batch } as never))).toEqual(await caught(() => m.predict(good, { valueOf: () => batch } as never)));
    // And the model is intact: the next call is right.
    expect(differences(m.predict(good, batch), await m.predictAsync(good, batch))).toEqual([]);
    m.dispose();
  });

  it('init validates threads and worker', async () => {
    for (const threads of [0, 65, 1.5, '2', Number.NaN]) {
      await expect(createRuntime({ threads: threads as number })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(createRuntime({ worker: 42 as unknown as string })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Each option is read once: a getter that answers 2 and then something invalid gets one read.
    let reads = 0;
    const options = { simd: SIMD, get threads() { reads++; return reads === 1 ? 2 : 'many'; } };
    const { createRuntime: create } = await entry; // not test/runtime.ts's, whose spread would read it
    const once = await create(options as never);
    expect(reads).toBe(1);
    expect(once.features.threads).toBe(2);
    once.dispose();
    const auto = await createRuntime();
    expect(auto.features.threads).toBeGreaterThanOrEqual(1);
    expect(auto.features.threads).toBeLessThanOrEqual(8);
    auto.dispose();
  });
});

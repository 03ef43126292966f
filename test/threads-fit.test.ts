// fit on the worker pool (init({ threads }), shared memory): each worker computes the gradients of a
// contiguous slice of the batch, and the calling thread sums them in slice order. A given thread
// count gives the same weights on every run; any thread count trains to the one-thread weights
// within float32 rounding (only the order of the gradient sums differs); dropout masks, ignored
// labels, clipping and trainable PReLU slopes give what one thread gives. Where workers hold copies
// (a page without COOP/COEP, or init({ wasm: Module })), fit runs on the calling thread: bit for bit
// one thread's result. Runs in Node, and in every browser project (the isolated one shares memory).
import { afterAll, describe, expect, it } from 'vitest';
import type { Runtime, Sequential } from '../src/node.js';
import { createRuntime, SIMD } from './runtime.js';
import { wasmModule } from './hardening.js';
import { expectNear } from './train-helpers.js';

type Mode = 'shared' | 'copies';
const CAN_SHARE = typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
const MODES: Mode[] = CAN_SHARE ? ['shared', 'copies'] : ['copies'];

const runtimes: Runtime[] = [];
async function threaded(threads: number, mode: Mode): Promise<Runtime> {
  const nn = await createRuntime({ threads, ...(mode === 'copies' && threads > 1 ? { wasm: await wasmModule(SIMD) } : {}) });
  runtimes.push(nn);
  expect(nn.features.sharedMemory).toBe(mode === 'shared' && threads > 1);
  return nn;
}
afterAll(async () => {
  for (const nn of runtimes) {
    await nn.close();
    nn.dispose();
  }
});

const INPUTS = 64;
const OUTPUTS = 10;
/** Dense relu, dropout, dense with trainable per-unit PReLU slopes, a shared-slope PReLU layer and a
 *  softmax (or tanh) output: about 14k multiply-adds per row, so a step of 128 rows (3 × that × 128 > 2^22)
 *  goes to the pool and the last, short batch (37 rows) runs on the calling thread. */
function net(nn: Runtime, dropout: number, output: 'softmax' | 'tanh' = 'softmax'): Sequential {
  return nn.sequential({
    inputs: INPUTS,
    layers: [
      { type: 'dense', units: 96, activation: 'relu' },
      { type: 'dropout', rate: dropout },
      { type: 'dense', units: 67, activation: { name: 'prelu', slope: Array.from({ length: 67 }, (_, i) => 0.01 * (i % 7)) } },
      { type: 'activation', activation: { name: 'prelu', slope: [0.2] } },
      { type: 'dense', units: OUTPUTS, activation: output },
    ],
  }, { seed: 11 });
}

const N = 128 * 3 + 37;
const X = Float32Array.from({ length: N * INPUTS }, (_, i) => Math.sin(i * 0.377) * 2);
const LABELS = Int32Array.from({ length: N }, (_, i) => (i * 7) % OUTPUTS);
const FLOATS = Float32Array.from({ length: N * OUTPUTS }, (_, i) => Math.cos(i * 0.11));

interface Case {
  name: string;
  y: Int32Array | Float32Array;
  loss: 'crossEntropy' | 'mse';
  dropout: number;
  optimizer: 'sgd' | 'adam';
  clipNorm?: number;
}
const CASES: Case[] = [
  { name: 'cross-entropy on labels, dropout 0.3, SGD', y: LABELS, loss: 'crossEntropy', dropout: 0.3, optimizer: 'sgd' },
  { name: 'mse, clipNorm, SGD', y: FLOATS, loss: 'mse', dropout: 0, optimizer: 'sgd', clipNorm: 0.05 },
];

async function train(nn: Runtime, c: Case, optimizer: 'sgd' | 'adam' = c.optimizer): Promise<{ weights: Float32Array; history: number[]; accuracy?: number[] }> {
  const m = net(nn, c.dropout, c.loss === 'mse' ? 'tanh' : 'softmax');
  try {
    const h = await m.fit(X, c.y, {
      epochs: 2, batchSize: 128, shuffle: true, seed: 5, loss: c.loss,
      optimizer: optimizer === 'sgd' ? { name: 'sgd', learningRate: 0.05 } : { name: 'adam', learningRate: 1e-3 },
      ...(c.clipNorm ? { clipNorm: c.clipNorm } : {}),
    });
    const flat = m.getWeights().flatMap((l) => [...l.weights, ...l.bias, ...(l.slope ?? [])]);
    return { weights: Float32Array.from(flat), history: h.loss, ...(h.accuracy ? { accuracy: h.accuracy } : {}) };
  } finally {
    m.dispose();
  }
}

const bitsDiffer = (a: Float32Array, b: Float32Array) => {
  const ua = new Uint32Array(a.buffer), ub = new Uint32Array(b.buffer);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
};

describe.each(MODES)('fit with threads, %s', (mode) => {
  for (const c of CASES) {
    it(`${c.name}: 1 thread's weights within float32 rounding; 2 and 3 threads each reproducible bit for bit`, async () => {
      const one = await train(await threaded(1, mode), c);
      for (const threads of [2, 3]) {
        const nn = await threaded(threads, mode);
        const a = await train(nn, c);
        const b = await train(nn, c);
        expect(bitsDiffer(a.weights, b.weights), `${threads} threads: two runs`).toBe(0);
        expect(a.history).toEqual(b.history);
        expectNear(a.weights, one.weights, 2e-5, `${threads} threads vs 1: weights`);
        expectNear(a.history, one.history, 1e-5, `${threads} threads vs 1: loss history`);
        if (one.accuracy) expect(a.accuracy).toEqual(one.accuracy);
        // Where the pool runs the step, the slices' loss gradients are scaled by their share of the
        // batch and the PReLU slope gradients are summed slice by slice, so some bits differ from
        // one thread's (this is how the test knows the pool did the work); where fit runs on the
        // calling thread (copies), every bit is one thread's.
        if (mode === 'shared') expect(bitsDiffer(a.weights, one.weights), `${threads} threads: the pool ran`).toBeGreaterThan(0);
        else expect(bitsDiffer(a.weights, one.weights)).toBe(0);
      }
    });
  }

  it('Adam with 2 threads: reproducible bit for bit and learning as one thread does', async () => {
    const c = CASES[0]!;
    const one = await train(await threaded(1, mode), c, 'adam');
    const nn = await threaded(2, mode);
    const a = await train(nn, c, 'adam');
    const b = await train(nn, c, 'adam');
    expect(bitsDiffer(a.weights, b.weights)).toBe(0);
    expectNear(a.history, one.history, 1e-4, 'loss history');
  });

  it('a model disposed while its step runs in the pool: fit rejects with DISPOSED, other models are untouched', async () => {
    const nn = await threaded(2, mode);
    const other = nn.sequential({ inputs: 8, layers: [{ type: 'dense', units: 5, activation: 'tanh' }] }, { seed: 3 });
    const probe = Float32Array.from({ length: 8 * 4 }, (_, i) => i / 7);
    const before = other.predict(probe, 4);
    const m = net(nn, 0.2);
    const pending = m.fit(X, LABELS, { epochs: 3, batchSize: 128, loss: 'crossEntropy' });
    m.dispose(); // the first step is in flight (shared) or about to run (copies)
    await expect(pending).rejects.toMatchObject({ code: 'DISPOSED' });
    // New models may take the disposed one's memory; whatever a worker still wrote went elsewhere.
    const fresh = net(nn, 0);
    const p1 = fresh.predict(X.subarray(0, INPUTS * 3), 3);
    await fresh.fit(X, LABELS, { epochs: 1, batchSize: 128, loss: 'crossEntropy', shuffle: false });
    expect(fresh.predict(X.subarray(0, INPUTS * 3), 3)).not.toEqual(p1);
    expect(other.predict(probe, 4)).toEqual(before);
    fresh.dispose();
    other.dispose();
  });

  it('a step writes only inside its own blocks: a model allocated right after them keeps its weights (3 threads; first layer not dense, and dense)', async () => {
    for (const first of ['activation', 'dense'] as const) {
      const nn = await threaded(3, mode);
      const layers = [
        ...(first === 'activation' ? [{ type: 'activation', activation: 'tanh' } as const] : []),
        { type: 'dense', units: 256, activation: 'relu' } as const,
        { type: 'dense', units: OUTPUTS, activation: 'softmax' } as const,
      ];
      const m = nn.sequential({ inputs: INPUTS, layers }, { seed: 4 });
      const options = { epochs: 1, batchSize: 128, loss: 'crossEntropy', shuffle: false } as const;
      await m.fit(X, LABELS, options); // the step's blocks are made (and kept for the next fit)
      // Allocated after them, with nothing free before: it sits right behind the step's blocks.
      const neighbour = nn.sequential({ inputs: 8, layers: [{ type: 'dense', units: 5, activation: 'tanh' }] }, { seed: 3 });
      const probe = Float32Array.from({ length: 8 * 4 }, (_, i) => i / 7);
      const before = neighbour.predict(probe, 4);
      const weights = neighbour.getWeights();
      await m.fit(X, LABELS, options);
      expect(neighbour.getWeights(), `first layer ${first}`).toEqual(weights);
      expect(neighbour.predict(probe, 4), `first layer ${first}`).toEqual(before);
      m.dispose();
      neighbour.dispose();
    }
  });

  it('while fit runs on the pool: trainStep, setWeights and another fit are refused; predict and predictAsync run', async () => {
    const nn = await threaded(2, mode);
    const m = net(nn, 0);
    const seen: string[] = [];
    await m.fit(X, LABELS, {
      epochs: 1, batchSize: 128, loss: 'crossEntropy',
      onBatchEnd: async (i) => {
        if (i !== 0) return;
        expect(() => m.trainStep(X.subarray(0, INPUTS), Int32Array.of(1), 1, { loss: 'crossEntropy' })).toThrow(expect.objectContaining({ code: 'REENTRANT_CALL' }));
        expect(() => m.setWeights(m.getWeights())).toThrow(expect.objectContaining({ code: 'REENTRANT_CALL' }));
        await expect(m.fit(X, LABELS, { loss: 'crossEntropy' })).rejects.toMatchObject({ code: 'REENTRANT_CALL' });
        const rows = X.subarray(0, INPUTS * 200);
        expect(await m.predictAsync(rows, 200)).toEqual(m.predict(rows, 200));
        seen.push('checked');
      },
    });
    expect(seen).toEqual(['checked']);
    m.dispose();
  });
});

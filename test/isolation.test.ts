// Hardening: isolation. Two runtimes, or two models of one runtime, used interleaved never
// see each other's data; everything handed to the user is a copy (mutating it changes nothing
// inside, and later calls never change it); everything taken from the user is copied (mutating a
// spec, weights or inputs afterwards changes nothing); and no public property can be used to make
// one model write into another's memory.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, init, type LayerInfo, type Runtime, type Sequential } from '../src/node.js';
import { rand, refDense } from './reference.js';
import { SIMD } from './runtime.js';
import { wasmModule } from './hardening.js';

let wasm: WebAssembly.Module;
beforeAll(async () => {
  wasm = await wasmModule(SIMD);
});
const fresh = (maximumMemory?: number) => createRuntime({ simd: SIMD, wasm, ...(maximumMemory ? { maximumMemory } : {}) });

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
/** A result must own its buffer: not a view of WebAssembly memory or of another result. */
const ownsBuffer = (y: Float32Array) => y.byteOffset === 0 && y.buffer.byteLength === y.byteLength;

/** An MLP 7 → 9 → 5 (softmax) with weights from `seed`. */
function mlp(nn: Runtime, seed: number): { model: Sequential; ref: (x: Float32Array, batch: number) => Float64Array } {
  const w1 = rand(9 * 7, seed);
  const b1 = rand(9, seed + 1);
  const w2 = rand(5 * 9, seed + 2);
  const model = nn.sequential({
    layers: [
      { inputs: 7, units: 9, weights: w1, bias: b1, activation: 'tanh' },
      { units: 5, weights: w2, activation: 'softmax' },
    ],
  });
  const ref = (x: Float32Array, batch: number) => {
    const h = refDense(x, w1, b1, batch, 7, 9, Math.tanh);
    const z = refDense(h, w2, undefined, batch, 9, 5);
    for (let m = 0; m < batch; m++) {
      const row = z.subarray(m * 5, m * 5 + 5);
      const mx = Math.max(...row);
      let s = 0;
      for (let j = 0; j < 5; j++) s += (row[j] = Math.exp(row[j]! - mx));
      for (let j = 0; j < 5; j++) row[j]! /= s;
    }
    return z;
  };
  return { model, ref };
}

const close = (y: Float32Array, r: Float64Array) => y.length === r.length && y.every((v, i) => Math.abs(v - r[i]!) <= 2e-6);

describe(`isolation (${SIMD} binary)`, () => {
  it('two runtimes and two models per runtime, interleaved 2,000 times, each compute only their own function', async () => {
    const rts = [await fresh(), await fresh(16 << 20)];
    const nets = [mlp(rts[0]!, 1), mlp(rts[0]!, 100), mlp(rts[1]!, 1), mlp(rts[1]!, 200)];
    // nets[0] and nets[2] have the same weights in different runtimes: they must agree exactly.
    const x = rand(7 * 70, 9, -3, 3);
    for (let i = 0; i < 2000; i++) {
      const k = (i * 7 + (i >> 3)) % 4;
      const batch = (i * 13) % 71;
      const input = x.subarray(0, 7 * batch);
      const y = nets[k]!.model.predict(input, batch);
      if (!close(y, nets[k]!.ref(input, batch))) throw new Error(`step ${i}: model ${k} (batch ${batch}) computed something else`);
      if (k === 0 || k === 2) expect(same(y, nets[2 - k]!.model.predict(input, batch))).toBe(true);
      if (i % 100 === 0) rts[i % 2]!.relu(rand(1 << 16, i)); // staging traffic in between
    }
    // Each runtime counts only its own objects.
    expect(rts.map((r) => r.memory().objects)).toEqual([2, 2]);
    nets[0]!.model.dispose();
    expect(rts.map((r) => r.memory().objects)).toEqual([1, 2]);
    expect(close(nets[2]!.model.predict(x.subarray(0, 7), 1), nets[2]!.ref(x.subarray(0, 7), 1))).toBe(true);
    nets.slice(1).forEach((n) => n.model.dispose());
    expect(rts.map((r) => r.memory().objects)).toEqual([0, 0]);
  });

  it('predict returns a fresh copy: mutating it changes nothing, later calls never change it', async () => {
    const nn = await fresh();
    const { model } = mlp(nn, 3);
    const x = rand(7 * 4, 4);
    const y1 = model.predict(x, 4);
    const saved = y1.slice();
    expect(ownsBuffer(y1)).toBe(true);
    y1.fill(NaN);
    const y2 = model.predict(x, 4);
    expect(same(y2, saved)).toBe(true);
    expect(y2).not.toBe(y1);
    // Many later calls (other inputs, batches, memory growth) leave y2 alone.
    const other = mlp(nn, 4).model;
    for (let i = 1; i < 200; i++) {
      model.predict(rand(7 * (i % 50), i), i % 50);
      other.predict(rand(7 * (i % 30), i + 1), i % 30);
    }
    nn.dense({ inputs: 1024, units: 1024, weights: new Float32Array(1 << 20) }).dispose(); // grows memory
    expect(same(y2, saved)).toBe(true);
    // predictInto writes only the `out` it is given, and only during that call.
    const out = new Float32Array(20);
    expect(model.predictInto(x, out, 4)).toBe(out);
    expect(same(out, saved)).toBe(true);
    const kept = out.slice();
    model.predict(rand(7 * 4, 99), 4);
    model.predictInto(rand(7 * 4, 98), new Float32Array(20), 4);
    expect(same(out, kept)).toBe(true);
    other.dispose();
    model.dispose();
  });

  it('activate / softmax return fresh copies, write only `out`, and never modify the input', async () => {
    const nn = await fresh();
    const x1 = rand(1000, 1, -3, 3);
    const x2 = rand(1000, 2, -3, 3);
    const x1saved = x1.slice();
    for (const f of [(x: Float32Array) => nn.relu(x), (x: Float32Array) => nn.tanh(x), (x: Float32Array) => nn.softmax(x, 10), (x: Float32Array) => nn.prelu(x, { slope: [0.1, 0.2] })]) {
      const a = f(x1);
      const keep = a.slice();
      expect(ownsBuffer(a)).toBe(true);
      const b = f(x2);
      expect(b.buffer).not.toBe(a.buffer);
      expect(same(a, keep)).toBe(true); // the second call did not touch the first result
      a.fill(7);
      expect(same(f(x1), keep)).toBe(true); // mutating a result changes nothing inside
      expect(same(x1, x1saved)).toBe(true); // the input is never written
    }
    // A large input goes through the staging buffer in chunks: still a fresh, complete result.
    const big = rand(100_003, 5, -3, 3);
    const r = nn.sigmoid(big);
    expect(ownsBuffer(r)).toBe(true);
    expect(r.every((v, i) => Math.abs(v - 1 / (1 + Math.exp(-big[i]!))) < 1e-6)).toBe(true);
  });

  it('the spec, weights, bias, slope and input arrays are copied: mutating them later changes nothing', async () => {
    const nn = await fresh();
    const weights = rand(4 * 3, 1);
    const nested = [Array.from(weights.subarray(0, 3)), Array.from(weights.subarray(3, 6)), Array.from(weights.subarray(6, 9)), Array.from(weights.subarray(9, 12))];
    const bias = rand(4, 2);
    const slope = [0.1, 0.2, 0.3, 0.4];
    const spec = { layers: [{ inputs: 3, units: 4, weights, bias, activation: { name: 'prelu' as const, slope } }] };
    const a = nn.sequential(spec);
    const b = nn.sequential({ layers: [{ inputs: 3, units: 4, weights: nested, bias: Array.from(bias), activation: { name: 'prelu', slope } }] });
    const x = rand(3 * 5, 3);
    const ya = a.predict(x, 5);
    const yb = b.predict(x, 5);
    expect(same(ya, yb)).toBe(true);
    weights.fill(100);
    bias.fill(-100);
    slope.fill(9);
    nested[0]![0] = 1e6;
    spec.layers[0]!.inputs = 1;
    (spec.layers as unknown[]).push({ units: 1, weights: [1] });
    expect(same(a.predict(x, 5), ya)).toBe(true);
    expect(same(b.predict(x, 5), yb)).toBe(true);
    expect([a.inputs, a.outputs, a.layers.length]).toEqual([3, 4, 1]);
    // The input array given to predict is read during the call only.
    const xin = x.slice();
    const y = a.predict(xin, 5);
    xin.fill(0);
    expect(same(y, ya)).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('init() memoises per options: the same runtime for the same options, separate memories otherwise', async () => {
    const a = await init({ simd: SIMD });
    const b = await init({ simd: SIMD });
    const c = await init({ simd: SIMD, maximumMemory: 32 << 20 });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(c.memory().maximumBytes).toBe(32 << 20);
    expect(Object.isFrozen(a.features)).toBe(true);
    const m = c.dense({ inputs: 2, units: 2, weights: [1, 0, 0, 1] });
    const before = a.memory();
    expect(c.memory().objects).toBeGreaterThanOrEqual(1);
    m.dispose();
    expect(a.memory()).toEqual(before);
  });

  it('assigning model.outputs / model.inputs / model.layers cannot make a model write outside its buffers', async () => {
    // `inputs`, `outputs` and `layers` are declared readonly in TypeScript, but they are plain
    // writable properties at runtime and predict() sizes its buffers and the kernel's layer walk
    // from them: `model.outputs = 1` made the next larger batch write batch × (real outputs)
    // floats into a buffer of batch × 1, over whatever the arena placed next (other models'
    // weights: silently wrong results, or a RuntimeError trap when a descriptor was hit).
    const nn = await fresh();
    const failures: string[] = [];
    const tryAssign = (f: () => void) => { try { f(); } catch { /* a read-only property may refuse the assignment */ } };
    for (let fill = 1; fill < 200; fill += 7) {
      const filler = nn.dense({ inputs: 1, units: fill, weights: new Float32Array(fill) });
      const victim = nn.dense({ inputs: 4, units: 4, weights: new Float32Array(16).fill(0.5) });
      const golden = victim.predict([1, 2, 3, 4]);
      filler.dispose(); // leaves a hole before the victim for the next allocations
      const attacker = nn.dense({ inputs: 1, units: 64, weights: new Float32Array(64).fill(1e6) });
      tryAssign(() => { (attacker as { outputs: number }).outputs = 1; });
      tryAssign(() => { (attacker as { inputs: number }).inputs = 40; });
      tryAssign(() => { (attacker.layers as LayerInfo[]).push(...Array.from({ length: 50 }, () => attacker.layers[0]!)); });
      try {
        const y = attacker.predict(new Float32Array(40).fill(1), 40);
        if (y.length !== 40 * 64 || y.some((v) => v !== 1e6)) failures.push(`fill ${fill}: the attacker computed something else`);
      } catch (err) {
        failures.push(`fill ${fill}: attacker threw ${(err as Error).constructor.name}: ${(err as Error).message}`);
      }
      try {
        if (!same(victim.predict([1, 2, 3, 4]), golden)) failures.push(`fill ${fill}: the victim's weights were overwritten`);
      } catch (err) {
        failures.push(`fill ${fill}: victim threw ${(err as Error).constructor.name}: ${(err as Error).message}`);
      }
      attacker.dispose();
      victim.dispose();
    }
    expect(failures).toEqual([]);
  });
});

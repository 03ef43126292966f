// Hardening against arguments that run code or lie: overridden `length`, species constructors,
// Proxies, holes, getters that throw or call back into simdnn, option getters that answer twice.
// Each test names the corruption it guards against; each failed on the code before the fix
// (checked by running this file against it). Runs in Node and in the browser projects.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, SimdnnError, type Runtime, type Sequential } from '../src/node.js';
import { rand, refDense } from './reference.js';
import { SIMD } from './runtime.js';
import { wasmModule } from './hardening.js';

let wasm: WebAssembly.Module;
let nn: Runtime;
beforeAll(async () => {
  wasm = await wasmModule(SIMD);
  nn = await createRuntime({ simd: SIMD, wasm });
});

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof SimdnnError) return err.code;
    throw err;
  }
  return 'no error';
}

/** A 5 → 3 tanh layer and its float64 reference. */
function layer(seed: number): { model: Sequential; ref: (x: Float32Array) => Float64Array } {
  const w = rand(15, seed);
  const b = rand(3, seed + 1);
  const model = nn.dense({ inputs: 5, units: 3, weights: w, bias: b, activation: 'tanh' });
  return { model, ref: (x) => refDense(x, w, b, x.length / 5, 5, 3, Math.tanh) };
}

const close = (got: Float32Array, want: Float64Array) => got.every((v, i) => Math.abs(v - want[i]!) < 1e-5);

/** A Float32Array of `real` values whose own `length` property says `claimed`. */
function lying(real: number, claimed: number, fill = 1): Float32Array {
  const a = new Float32Array(real).fill(fill);
  Object.defineProperty(a, 'length', { value: claimed });
  return a;
}

class LongerThanItSays extends Float32Array {
  override get length(): number { return 5; }
}

/** species: subarray()/map() would make a 3-float array whatever was asked. */
class Species extends Float32Array {
  static get [Symbol.species](): Float32ArrayConstructor {
    return function () { return new Float32Array(3); } as unknown as Float32ArrayConstructor;
  }
}

describe(`arguments that lie about their length (${SIMD} binary)`, () => {
  it('predict: a Float32Array claiming 5 values but holding 4096 is rejected and writes nothing past its block', () => {
    const a = layer(1);
    const b = layer(2);
    const probe = rand(10, 3);
    const before = b.model.predict(probe, 2);
    expect(code(() => a.model.predict(lying(4096, 5, 7)))).toBe('SHAPE_MISMATCH');
    expect(code(() => a.model.predict(new LongerThanItSays(4096)))).toBe('SHAPE_MISMATCH');
    expect(same(b.model.predict(probe, 2), before)).toBe(true);
    expect(close(a.model.predict(probe, 2), a.ref(probe))).toBe(true);
    a.model.dispose();
    b.model.dispose();
  });

  it("predict: a Float32Array claiming 5 values but holding 1 is rejected, not answered with the previous caller's input", () => {
    const a = layer(4);
    a.model.predict(Float32Array.of(9, 9, 9, 9, 9)); // leaves 9s in the input buffer
    expect(code(() => a.model.predict(lying(1, 5)))).toBe('SHAPE_MISMATCH');
    expect(code(() => a.model.predictInto(rand(5, 1), lying(1, 3)))).toBe('SHAPE_MISMATCH');
    a.model.dispose();
  });

  it('weights and bias that lie about their length are rejected (INVALID_WEIGHTS), other models intact', () => {
    const b = layer(5);
    const probe = rand(5, 6);
    const before = b.model.predict(probe);
    expect(code(() => nn.dense({ inputs: 5, units: 3, weights: lying(100_000, 15) }))).toBe('INVALID_WEIGHTS');
    expect(code(() => nn.dense({ inputs: 5, units: 3, weights: rand(15, 1), bias: lying(50_000, 3) }))).toBe('INVALID_WEIGHTS');
    expect(code(() => nn.dense({ inputs: 5, units: 3, weights: lying(2, 15) }))).toBe('INVALID_WEIGHTS');
    expect(same(b.model.predict(probe), before)).toBe(true);
    b.model.dispose();
  });

  it('activate: the result has the real length and every value, whatever `length` says', () => {
    const x = lying(40_000, 4, -2);
    x[39_999] = 3;
    const y = nn.relu(x);
    expect(Float32Array.prototype.slice.call(new Float32Array(y.buffer, y.byteOffset, 40_000)).length).toBe(40_000);
    expect(new Float32Array(y.buffer)[39_999]).toBe(3);
    expect(new Float32Array(y.buffer)[0]).toBe(0);
    // out that claims the right length but is shorter: rejected, nothing written past it.
    expect(code(() => nn.relu(rand(8, 1), lying(4, 8)))).toBe('SHAPE_MISMATCH');
  });

  it('a prelu slope whose length lies is read by its real length', () => {
    const slope = lying(2, 1);
    slope.set([0.5, 0.25]);
    expect(Array.from(nn.prelu(Float32Array.of(-2, -4, 2, 2), { slope }))).toEqual([-1, -1, 2, 2]);
    expect(code(() => nn.dense({ inputs: 2, units: 3, weights: new Float32Array(6), activation: { name: 'prelu', slope: lying(2, 3) } }))).toBe('SHAPE_MISMATCH');
  });

  it('activate streams a long Species array through views it builds itself (species never called)', () => {
    const n = 70_007; // several chunks, whole rows of 7
    const x = new Species(n);
    for (let i = 0; i < n; i++) x[i] = (i % 7) - 3;
    const want = nn.relu(new Float32Array(x.buffer).slice());
    expect(same(nn.relu(x), want)).toBe(true);
    expect(same(nn.softmax(x, 7), nn.softmax(new Float32Array(x.buffer).slice(), 7))).toBe(true);
  });
});

describe(`caller code that runs inside a call (${SIMD} binary)`, () => {
  it('an index getter that disposes the model, moves the staging buffer or builds a model is refused (REENTRANT_CALL)', () => {
    const a = layer(7);
    const other = layer(8);
    const probe = rand(5, 9);
    const want = other.model.predict(probe);
    const seen: string[] = [];
    const x = [0.5, -0.25, 1, 2, -1];
    Object.defineProperty(x, 2, {
      get() {
        for (const f of [
          () => a.model.dispose(), () => other.model.dispose(), () => nn.relu(new Float32Array(1 << 18)),
          () => nn.dense({ inputs: 1, units: 1, weights: [1] }), () => other.model.predict(probe), () => nn.dispose(),
        ]) seen.push(code(f));
        return 1;
      },
    });
    const got = a.model.predict(x);
    expect(seen).toEqual(Array(6).fill('REENTRANT_CALL'));
    expect(a.model.disposed).toBe(false);
    expect(close(got, a.ref(Float32Array.of(0.5, -0.25, 1, 2, -1)))).toBe(true);
    expect(same(other.model.predict(probe), want)).toBe(true);
    a.model.dispose();
    other.model.dispose();
  });

  it('a getter that throws: its own error propagates and nothing changes', () => {
    const a = layer(10);
    const before = nn.memory();
    const mine = new Error('mine');
    const x = [1, 2, 3, 4, 5];
    Object.defineProperty(x, 4, { get() { throw mine; } });
    expect(() => a.model.predict(x)).toThrow(mine);
    expect(nn.memory()).toEqual(before);
    // The runtime is usable afterwards (the guard was released).
    expect(a.model.predict(rand(5, 2)).length).toBe(3);
    a.model.dispose();
  });

  it('a Proxy of a Float32Array is rejected without running its traps (getPrototypeOf, get)', () => {
    const a = layer(11);
    const traps: string[] = [];
    const proxy = new Proxy(new Float32Array(5), {
      getPrototypeOf(t) { traps.push('getPrototypeOf'); a.model.dispose(); return Reflect.getPrototypeOf(t); },
      get(t, k) { traps.push(`get ${String(k)}`); return Reflect.get(t, k); },
    });
    expect(code(() => a.model.predict(proxy))).toBe('INVALID_ARGUMENT');
    expect(code(() => nn.relu(proxy))).toBe('INVALID_ARGUMENT');
    expect(traps.filter((t) => t === 'getPrototypeOf')).toEqual([]);
    expect(a.model.disposed).toBe(false);
    a.model.dispose();
  });

  it('a parameter getter that calls back into the runtime is refused; the activation still runs', () => {
    const x = Float32Array.of(-2, 3);
    let inner = '';
    const y = nn.leakyRelu(x, { get alpha() { inner = code(() => nn.relu(new Float32Array(1 << 17))); return 0.5; } });
    expect(inner).toBe('REENTRANT_CALL');
    expect(Array.from(y)).toEqual([-1, 3]);
  });

  it('a spec getter that disposes the runtime mid-build is refused', () => {
    let inner = '';
    const m = nn.sequential({ get inputs() { inner = code(() => nn.dispose()); return 2; }, layers: [{ units: 1, weights: [1, 1] }] });
    expect(inner).toBe('REENTRANT_CALL');
    expect(Array.from(m.predict([1, 2]))).toEqual([3]);
    m.dispose();
  });
});

describe(`layers read by index, once (${SIMD} binary)`, () => {
  const l = (units: number, inputs?: number) => ({ ...(inputs ? { inputs } : {}), units, weights: new Float32Array(units * (inputs ?? units)).fill(0.5) });

  it('a hole in layers is an error, not a silently shorter model', () => {
    // eslint-disable-next-line no-sparse-arrays
    const err = (() => { try { nn.sequential({ layers: [l(2, 2), , l(2)] as never }); } catch (e) { return e as SimdnnError; } })();
    expect(err?.code).toBe('INVALID_SPEC');
    expect(err?.message).toMatch(/layers\[1\]: must be an object, received undefined/);
  });

  it('a Proxy that hides index 0 or lies about its length builds nothing that reads freed memory', () => {
    const hide = new Proxy([l(2, 2)], { get: (t, k) => (k === '0' ? undefined : Reflect.get(t, k)) });
    expect(code(() => nn.sequential({ layers: hide }))).toBe('INVALID_SPEC');
    const zero = new Proxy([l(2, 2)], { get: (t, k) => (k === 'length' ? 0 : Reflect.get(t, k)) });
    expect(code(() => nn.sequential({ layers: zero }))).toBe('INVALID_SPEC');
    const huge = new Proxy([l(2, 2)], { get: (t, k) => (k === 'length' ? 2 ** 40 : Reflect.get(t, k)) });
    expect(code(() => nn.sequential({ layers: huge }))).toBe('INVALID_SPEC');
  });

  it('every layer and field is read exactly once', () => {
    const reads = new Map<string, number>();
    const counted = <T extends object>(name: string, o: T): T => new Proxy(o, {
      get(t, k) { if (typeof k === 'string') reads.set(`${name}.${k}`, (reads.get(`${name}.${k}`) ?? 0) + 1); return Reflect.get(t, k); },
    });
    const m = nn.sequential(counted('spec', { layers: counted('layers', [counted('l0', l(3, 2)), counted('l1', l(3))]) }));
    for (const [key, n] of reads) expect(`${key} read ${n}×`).toBe(`${key} read 1×`);
    expect(reads.get('l0.weights')).toBe(1);
    m.dispose();
  });
});

describe(`init() options (${SIMD} binary)`, () => {
  it('each option is read once: a getter cannot key the memo with one value and build with another', async () => {
    const { init } = await import('./runtime.js').then((r) => r.entry);
    let reads = 0;
    const options = {
      simd: SIMD,
      get maximumMemory() { reads++; return reads === 1 ? 2 ** 26 : 65536; },
    };
    const rt = await init(options);
    expect(reads).toBe(1);
    expect(rt.memory().maximumBytes).toBe(2 ** 26);
    rt.dispose();
  });
});

describe(`models and runtimes (${SIMD} binary)`, () => {
  it('model methods are bound: const { predict } = model works', () => {
    const a = layer(12);
    const { predict, predictInto, summary, toJSON } = a.model;
    const x = rand(5, 3);
    expect(close(predict(x), a.ref(x))).toBe(true);
    expect(close(predictInto(x, new Float32Array(3)), a.ref(x))).toBe(true);
    expect(summary()).toMatch(/Sequential: 5 inputs → 3 outputs/);
    expect(toJSON().layers).toHaveLength(1);
    a.model.dispose();
  });

  it('nn.dispose() ends the runtime: its models and every method throw DISPOSED; init() then makes a new one', async () => {
    const { init } = await import('./runtime.js').then((r) => r.entry);
    const rt = await init({ simd: SIMD, maximumMemory: 3 * 65536 * 7 });
    const m = rt.dense({ inputs: 2, units: 1, weights: [1, 2] });
    rt.dispose();
    rt.dispose(); // idempotent
    expect(rt.disposed).toBe(true);
    expect(m.disposed).toBe(true);
    expect(code(() => m.predict([1, 1]))).toBe('DISPOSED');
    expect(code(() => rt.relu(new Float32Array(2)))).toBe('DISPOSED');
    expect(code(() => rt.dense({ inputs: 2, units: 1, weights: [1, 2] }))).toBe('DISPOSED');
    expect(code(() => rt.memory())).toBe('DISPOSED');
    m.dispose(); // still safe
    const again = await init({ simd: SIMD, maximumMemory: 3 * 65536 * 7 });
    expect(again).not.toBe(rt);
    expect(Array.from(again.relu(Float32Array.of(-1, 2)))).toEqual([0, 2]);
    again[Symbol.dispose]();
    expect(again.disposed).toBe(true);
  });
});

describe(`messages that name the fix (${SIMD} binary)`, () => {
  const message = (f: () => unknown) => { try { f(); } catch (e) { return (e as Error).message; } return ''; };

  it('nested rows, a whole multiple of the row size, a transposed weights matrix, a detached input', () => {
    const a = layer(13);
    expect(message(() => a.model.predict([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]] as never))).toMatch(/holding 2 arrays: flatten the rows into one array .* batch = 2/);
    expect(message(() => a.model.predict(rand(10, 1)))).toMatch(/did you mean batch = 2\?/);
    const inOut = Array.from({ length: 5 }, () => [1, 2, 3]);
    expect(message(() => nn.dense({ inputs: 5, units: 3, weights: inOut }))).toMatch(/this looks like \[inputs\]\[units\]: pass weightsLayout: 'in-out'/);
    const x = rand(5, 1);
    structuredClone(x.buffer, { transfer: [x.buffer] });
    expect(message(() => a.model.predict(x))).toMatch(/detached/);
    expect(message(() => nn.relu(x))).toMatch(/detached/);
    a.model.dispose();
  });

  it('sparse input arrays are rejected, not read as NaN; Float64Array and other numeric arrays are converted', () => {
    const a = layer(14);
    // eslint-disable-next-line no-sparse-arrays
    expect(message(() => a.model.predict([1, , 3, 4, 5] as never))).toMatch(/sparse array: element 1 is a hole/);
    const x = Float64Array.from(rand(5, 4));
    expect(close(a.model.predict(x), a.ref(Float32Array.from(x)))).toBe(true);
    expect(close(a.model.predict(Int8Array.of(1, -2, 3, 0, 1)), a.ref(Float32Array.of(1, -2, 3, 0, 1)))).toBe(true);
    a.model.dispose();
  });

  it('JSON.stringify(model) and toJSON() give the spec back (weights bit-identical); console.log shows no arena', async () => {
    const w = rand(12, 21);
    const m = nn.sequential({ layers: [
      { inputs: 4, units: 3, weights: w, bias: rand(3, 22), activation: { name: 'leakyRelu', alpha: 0.2 }, name: 'odd\nname' },
      { type: 'activation', activation: 'softmax' },
    ] });
    const spec = JSON.parse(JSON.stringify(m));
    expect(spec.layers[0].activation).toEqual({ name: 'leakyRelu', alpha: 0.2 });
    expect(same(Float32Array.from(spec.layers[0].weights), w)).toBe(true);
    const back = nn.sequential(spec);
    const x = rand(8, 5);
    expect(same(back.predict(x, 2), m.predict(x, 2))).toBe(true);
    expect(m.summary()).toMatch(/leakyRelu\(alpha=0\.2\)/);
    expect(m.summary()).toMatch(/odd\\nname/);
    expect(m.summary().split('\n')).toHaveLength(8);
    const inspect = (m as unknown as Record<symbol, () => string>)[Symbol.for('nodejs.util.inspect.custom')]!();
    expect(inspect).toMatch(/Sequential \{ inputs: 4, outputs: 3/);
    expect(inspect).not.toMatch(/arena|registry|free/i);
    expect(Object.keys(m)).not.toContain('registry');
    back.dispose();
    m.dispose();
  });
});

describe(`hostile input to the importers and the trainer (${SIMD} binary)`, () => {
  it('model bytes whose length or element size lie are copied by their real size; a Proxy source is refused', async () => {
    const saved = nn.dense({ inputs: 2, units: 1, weights: [1, 2] });
    const bytes = saved.save();
    saved.dispose();
    const shortClaim = new Uint8Array(bytes.length);
    shortClaim.set(bytes);
    Object.defineProperty(shortClaim, 'length', { value: 8 });
    Object.defineProperty(shortClaim, 'BYTES_PER_ELEMENT', { value: 64 });
    const m = await nn.load(shortClaim);
    expect(Array.from(m.predict([1, 1]))).toEqual([3]);
    m.dispose();
    const before = nn.memory();
    await expect(nn.load(new Proxy(bytes, {}))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(nn.load(bytes.subarray(0, bytes.length - 3))).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    expect(nn.memory()).toEqual(before);
  });

  it('fit and trainStep: lying lengths, Proxies and re-entrant callbacks are typed errors', async () => {
    const m = nn.sequential({ inputs: 2, layers: [{ units: 3, activation: 'relu' }, { units: 2, activation: 'softmax' }] }, { seed: 3 });
    const x = rand(8, 4);
    const labels = Int32Array.of(0, 1, 1, 0);
    expect(code(() => m.trainStep(lying(2, 8), labels, 4, { loss: 'crossEntropy' }))).toBe('SHAPE_MISMATCH');
    const lyingLabels = Int32Array.of(0, 1);
    Object.defineProperty(lyingLabels, 'length', { value: 4 });
    expect(code(() => m.trainStep(x, lyingLabels, 4, { loss: 'crossEntropy' }))).toBe('SHAPE_MISMATCH');
    expect(code(() => m.trainStep(x, new Proxy(labels, {}), 4, { loss: 'crossEntropy' }))).toBe('INVALID_ARGUMENT');
    const inner: string[] = [];
    await m.fit(x, labels, {
      epochs: 1, batchSize: 2, loss: 'crossEntropy',
      onBatchEnd: () => { inner.push(code(() => m.trainStep(x, labels, 4, { loss: 'crossEntropy' }))); },
    });
    expect(inner.length).toBeGreaterThan(0);
    expect(new Set(inner)).toEqual(new Set(['REENTRANT_CALL']));
    m.dispose();
  });
});

// Hardening: nothing leaks. nn.memory() returns exactly to its baseline after 100,000
// create/predict/dispose cycles and after every failure path; objects that are garbage-collected
// without dispose() are freed by the FinalizationRegistry safety net (checked in a child
// `node --expose-gc`), which warns once per runtime; and OUT_OF_MEMORY leaves every existing object
// intact and usable.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, SimdnnError, type Runtime, type Sequential } from '../src/node.js';
import { rand, refDense } from './reference.js';
import { SIMD } from './runtime.js';
import { BUDGET, envInt, IN_BROWSER, wasmModule } from './hardening.js';

/** 100,000 in both Node projects (2–3 s); 10,000 in the browser projects. */
const CYCLES = envInt('LEAK_CYCLES', IN_BROWSER ? 10_000 : 100_000);
/** Rounds of the failure-path test. */
const ROUNDS = Math.max(200, Math.round(1000 * BUDGET));

/**
 * A runtime created with NODE_ENV=production, where models do not record their creation stack for
 * the leak warning. Under vitest, formatting a stack goes through its source-map support and costs
 * ~150 µs (plain Node: ~15 µs), which would make 100,000 cycles take 20 s instead of 2 s; the
 * memory accounting being tested is the same in both modes (the development mode runs 10,000).
 */
async function production<T>(f: () => Promise<T>): Promise<T> {
  const p = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  const saved = p?.env.NODE_ENV;
  if (p) p.env.NODE_ENV = 'production';
  try {
    return await f();
  } finally {
    if (p) p.env.NODE_ENV = saved;
  }
}

let wasm: WebAssembly.Module;
beforeAll(async () => {
  wasm = await wasmModule(SIMD);
});

const fresh = (maximumMemory?: number) => createRuntime({ simd: SIMD, wasm, ...(maximumMemory ? { maximumMemory } : {}) });

const SPEC = {
  layers: [
    { inputs: 6, units: 5, weights: rand(30, 1), bias: rand(5, 2), activation: 'tanh' as const },
    { units: 3, weights: rand(15, 3), activation: 'softmax' as const },
  ],
};

function oom(f: () => unknown): SimdnnError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(SimdnnError);
    expect((err as SimdnnError).code).toBe('OUT_OF_MEMORY');
    return err as SimdnnError;
  }
  throw new Error('expected OUT_OF_MEMORY');
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (!(err instanceof SimdnnError)) throw err;
    return err.code;
  }
  return 'none';
}

describe(`leaks (${SIMD} binary)`, () => {
  async function cycles(nn: Runtime, n: number, label: string) {
    const x = rand(6 * 9, 4);
    // Warm up: the first cycles may grow memory once (the arena's bump region).
    for (let i = 0; i < 100; i++) { const m = nn.sequential(SPEC); m.predict(x.subarray(0, 6 * (1 + (i % 9))), 1 + (i % 9)); m.dispose(); }
    const base = nn.memory();
    expect(base).toMatchObject({ objects: 0, bytes: 0 });
    const heap: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const m = nn.sequential(SPEC);
      const batch = 1 + (i % 9);
      m.predict(x.subarray(0, 6 * batch), batch);
      if (i % 3 === 0) m[Symbol.dispose]();
      else m.dispose();
      if (i % 10_000 === 0) heap.push(nn.memory().heapBytes);
    }
    const ms = performance.now() - t0;
    const end = nn.memory();
    console.log(`leaks (${SIMD}, ${label}): ${n} cycles in ${(ms / 1000).toFixed(1)} s (${((ms * 1000) / n).toFixed(1)} µs/cycle); ` +
      `before ${JSON.stringify(base)}; after ${JSON.stringify(end)}`);
    expect(end).toEqual(base);
    // heapBytes does not keep growing: constant from the first sample on.
    expect(new Set([...heap, end.heapBytes]).size).toBe(1);
  }

  it(`${CYCLES.toLocaleString('en')} create/predict/dispose cycles return nn.memory() exactly to its baseline (NODE_ENV=production)`, async () => {
    await cycles(await production(() => fresh()), CYCLES, 'production');
  });

  it('3,000 cycles in development mode (creation stacks recorded) return to the baseline too', async () => {
    await cycles(await fresh(), 3_000, 'development');
  });

  it(`every failure path frees what it allocated: ${ROUNDS} rounds of failing calls`, async () => {
    const nn = await production(() => fresh(1 << 20)); // 1 MiB: OUT_OF_MEMORY is cheap to reach
    const keep = nn.dense({ inputs: 4, units: 3, weights: rand(12, 5), activation: 'relu' });
    const x = rand(4 * 5, 6);
    const golden = keep.predict(x, 5);
    nn.relu(new Float32Array(10)); // the staging buffer exists from here on
    const base = nn.memory();
    const codes = new Map<string, number>();
    const count = (c: string) => codes.set(c, (codes.get(c) ?? 0) + 1);
    for (let i = 0; i < ROUNDS; i++) {
      // The second layer fails after the first was packed (its blocks must be freed).
      count(code(() => nn.sequential({ layers: [{ inputs: 4, units: 8, weights: rand(32, i) }, { units: 2, weights: [1, 2, 3] }] })));
      count(code(() => nn.sequential({ layers: [{ inputs: 4, units: 8, weights: rand(32, i) }, { units: 2, weights: new Float32Array(16), activation: 'relux' as never }] })));
      count(code(() => nn.sequential({ layers: [{ inputs: 4, units: 8, weights: rand(32, i) }, { units: 2, weights: new Float32Array(16), activation: { name: 'prelu', slope: [1, 2, 3] } }] })));
      // OUT_OF_MEMORY in the middle of a model: layer 0 fits, layer 1 does not.
      if (i % 20 === 0) count(code(() => nn.sequential({ layers: [{ inputs: 64, units: 64, weights: new Float32Array(64 * 64) }, { units: 256, weights: new Float32Array(64 * 256) }, { units: 1024, weights: new Float32Array(256 * 1024) }] })));
      count(code(() => keep.predict(new Float32Array(3), 1)));
      count(code(() => keep.predict(x, -1)));
      if (i % 20 === 0) count(code(() => keep.predict(new Float32Array(4 * 100_000), 100_000)));
      if (i % 20 === 0) count(code(() => nn.softmax(new Float32Array(300_000)))); // one row: staged whole
      count(code(() => nn.prelu(new Float32Array(5), { slope: [1, 2] })));
      const dead = nn.dense({ inputs: 1, units: 1, weights: [1] });
      dead.dispose();
      count(code(() => dead.predict([1])));
      dead.dispose();
    }
    keep.predict(x, 5); // (re)reserves its buffers for 5 rows, as before the loop
    const end = nn.memory();
    expect(Object.fromEntries(codes)).toEqual({
      INVALID_WEIGHTS: ROUNDS, UNKNOWN_ACTIVATION: ROUNDS, SHAPE_MISMATCH: 3 * ROUNDS, OUT_OF_MEMORY: 3 * Math.ceil(ROUNDS / 20), INVALID_ARGUMENT: ROUNDS, DISPOSED: ROUNDS,
    });
    expect({ objects: end.objects, bytes: end.bytes }).toEqual({ objects: base.objects, bytes: base.bytes });
    expect(Array.from(keep.predict(x, 5))).toEqual(Array.from(golden));
    keep.dispose();
    expect(nn.memory()).toMatchObject({ objects: 0, bytes: 0 });
  });

  it.skipIf(IN_BROWSER)('the FinalizationRegistry safety net frees garbage-collected models and warns once per runtime (child node --expose-gc; Node only)', async () => {
    const results = await gcChild(['dev', 'production']);
    const dev = results.dev!;
    // Runtime A: 20 models created in leakModels() and dropped; one kept; one disposed properly.
    expect(dev.a.before.objects).toBe(21);
    expect(dev.a.after).toMatchObject({ objects: 1, bytes: dev.a.keptBytes });
    expect(dev.a.kept).toEqual([3, 4]);
    // Runtime B: leaks too, and gets its own warning. Runtime C only disposes: no warning.
    expect(dev.b.after).toMatchObject({ objects: 0, bytes: 0 });
    expect(dev.c.after).toMatchObject({ objects: 0, bytes: 0 });
    expect(dev.warnings).toHaveLength(2);
    for (const w of dev.warnings) {
      expect(w).toMatch(/^simdnn: a model was garbage-collected without dispose\(\); its \d+ bytes of WebAssembly memory were freed late/);
      expect(w).toMatch(/This warning is shown once per runtime/);
      expect(w).toMatch(/It was created at:\n\s+at Runtime\.(sequential|dense) [\s\S]*\n\s+at leakModels /); // the creation site
      expect(w).not.toMatch(/at new Resource|at new Sequential/); // without simdnn's own frames
    }
    const prod = results.production!;
    expect(prod.a.after).toMatchObject({ objects: 1, bytes: prod.a.keptBytes });
    expect(prod.warnings).toHaveLength(2);
    expect(prod.warnings[0]).toMatch(/creation site is not recorded when NODE_ENV is "production"/);
  }, 60_000);

  it('a model garbage-collected after dispose() is not reported (no double free)', async () => {
    // In-process counterpart of the child test: dispose() unregisters from the finalizer, so the
    // arena never sees a second release (which would throw inside the finalizer, or corrupt it).
    const nn = await fresh();
    const base = nn.memory();
    for (let i = 0; i < 1000; i++) nn.dense({ inputs: 2, units: 2, weights: [1, 0, 0, 1] }).dispose();
    expect(nn.memory()).toEqual(base);
  });
});

describe(`memory limits: OUT_OF_MEMORY leaves every existing object intact (${SIMD} binary)`, () => {
  let nn: Runtime;
  let models: Array<{ m: Sequential; x: Float32Array; y: Float32Array; batch: number }>;

  beforeAll(async () => {
    nn = await fresh(16 << 20);
    models = [];
    for (const [K, N, batch] of [[37, 19, 3], [1, 1, 1], [64, 33, 70], [300, 200, 8]] as const) {
      const w = rand(K * N, K);
      const b = rand(N, N);
      const m = nn.dense({ inputs: K, units: N, weights: w, bias: b, activation: 'relu' });
      const x = rand(batch * K, K + 1, -2, 2);
      const y = m.predict(x, batch);
      const ref = refDense(x, w, b, batch, K, N, (v) => Math.max(0, v));
      for (let i = 0; i < ref.length; i++) expect(Math.abs(y[i]! - ref[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref[i]!)) * K);
      models.push({ m, x, y, batch });
    }
  });

  const intact = () => {
    for (const { m, x, y, batch } of models) expect(Array.from(m.predict(x, batch))).toEqual(Array.from(y));
  };

  it('a model past the maximum', () => {
    const before = nn.memory();
    const err = oom(() => nn.dense({ inputs: 2048, units: 2048, weights: new Float32Array(2048 * 2048) }));
    expect(err.message).toMatch(/maximum is 16777216/);
    expect(nn.memory()).toMatchObject({ objects: before.objects, bytes: before.bytes });
    intact();
  });

  it('a model whose last layer does not fit (earlier layers were already packed)', () => {
    const before = nn.memory();
    oom(() => nn.sequential({ layers: [{ inputs: 100, units: 100, weights: new Float32Array(10_000) }, { units: 1500, weights: new Float32Array(150_000) }, { units: 2000, weights: new Float32Array(3_000_000) }] }));
    expect(nn.memory()).toMatchObject({ objects: before.objects, bytes: before.bytes });
    intact();
  });

  it('a batch past the maximum, then a batch that fits', () => {
    const { m, x, y, batch } = models[2]!;
    const before = nn.memory();
    oom(() => m.predict(new Float32Array(64 * 100_000), 100_000));
    expect(nn.memory().objects).toBe(before.objects);
    expect(nn.memory().bytes).toBeLessThanOrEqual(before.bytes);
    intact();
    // The model still grows for a batch that fits, and row results do not depend on the batch.
    const big = new Float32Array(64 * 1000);
    for (let r = 0; r < 1000; r++) big.set(x.subarray((r % batch) * 64, (r % batch + 1) * 64), r * 64);
    const out = m.predict(big, 1000);
    for (let r = 0; r < 1000; r += 7) expect(Array.from(out.subarray(r * 33, (r + 1) * 33))).toEqual(Array.from(y.subarray((r % batch) * 33, (r % batch + 1) * 33)));
    intact();
  });

  it('a softmax row and a prelu slope past the maximum; a long elementwise input streams through', () => {
    const before = nn.memory();
    oom(() => nn.softmax(new Float32Array(5_000_000))); // one row is staged whole: 20 MB
    oom(() => nn.prelu(new Float32Array(3_000_000), { slope: new Float32Array(3_000_000) }));
    expect(nn.memory()).toMatchObject({ objects: before.objects, bytes: before.bytes });
    intact();
    // 20 MB of input through a 16 MiB runtime: elementwise calls stream in chunks.
    const y = nn.tanh(new Float32Array(5_000_000).fill(0.5));
    expect(y.length).toBe(5_000_000);
    expect(Math.abs(y[4_999_999]! - Math.tanh(0.5))).toBeLessThan(1e-6);
    expect(Array.from(nn.relu(Float32Array.of(-1, 2)))).toEqual([0, 2]);
    expect(nn.memory().heapBytes).toBeLessThanOrEqual(16 << 20);
    intact();
  });

  it('memory never passes the maximum, and freed memory is reused', () => {
    const mem = nn.memory();
    expect(mem.heapBytes).toBeLessThanOrEqual(16 << 20);
    expect(mem.maximumBytes).toBe(16 << 20);
    // Fill what is left with 1 MB models until OUT_OF_MEMORY, free them, and do it again: the
    // same number fits (nothing leaked, the free space coalesced).
    const fill = () => {
      const made: Sequential[] = [];
      for (;;) {
        try { made.push(nn.dense({ inputs: 512, units: 512, weights: new Float32Array(512 * 512) })); } catch (err) {
          expect((err as SimdnnError).code).toBe('OUT_OF_MEMORY');
          break;
        }
      }
      intact();
      made.forEach((m) => m.dispose());
      return made.length;
    };
    const first = fill();
    expect(first).toBeGreaterThan(3);
    expect(fill()).toBe(first);
    expect(nn.memory().heapBytes).toBeLessThanOrEqual(16 << 20);
  });

  it('a softmax row that fits is not refused because of the staging buffer\'s growth policy', async () => {
    const small = await fresh(16 << 20);
    small.softmax(new Float32Array(1_500_000)); // one row: a 6 MB staging buffer
    // 1.6M floats (6.4 MB) fit once the 6 MB buffer is replaced, but doubling asks for 12 MB
    // while the old 6 MB are still held: 18 MB > 16 MB.
    expect(small.softmax(new Float32Array(1_600_000)).length).toBe(1_600_000);
  });

  it("a batch that fits is not refused because of the model's buffer growth policy", async () => {
    const small = await fresh(16 << 20);
    const m = small.dense({ inputs: 100, units: 100, weights: new Float32Array(10_000) });
    m.predict(new Float32Array(100 * 4000), 4000); // 4 buffers × 4000 rows × 100 floats = 6.4 MB
    // 4100 rows (6.6 MB) fit once the old buffers go, but doubling asks for 8000 rows (12.8 MB)
    // while the old 6.4 MB are held.
    expect(m.predict(new Float32Array(100 * 4100), 4100).length).toBe(410_000);
  });
});

// ---------------------------------------------------------------------------------------------
// The child process for the FinalizationRegistry test: the sources bundled with esbuild (so the
// test checks src/, not a possibly stale dist/), run by `node --expose-gc`.

interface Phase { base: Mem; before: Mem; after: Mem; kept?: number[]; keptBytes?: number }
interface Mem { objects: number; bytes: number; scratchBytes: number; heapBytes: number; maximumBytes: number }
interface ChildResult { a: Phase & { kept: number[]; keptBytes: number }; b: Phase; c: Phase; warnings: string[] }

const CHILD_SCRIPT = `
const [, , entry, wasmPath, simd] = process.argv;
const { createRuntime } = await import(entry);
const warnings = [];
console.warn = (...args) => warnings.push(args.join(' '));
const settle = async (nn, objects) => {
  for (let i = 0; i < 60 && nn.memory().objects > objects; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 5));
  }
};
function leakModels(nn, n) {
  for (let i = 0; i < n; i++) nn.dense({ inputs: 8, units: 8, weights: new Float32Array(64) }).predict(new Float32Array(8 * 3), 3);
}
const open = (maximumMemory) => createRuntime({ simd, wasm: wasmPath, maximumMemory });
// A: 20 leaked, 1 disposed, 1 kept alive.
const a = await open(1 << 26);
const aBase = a.memory();
leakModels(a, 20);
a.dense({ inputs: 1, units: 1, weights: [1] }).dispose();
const bytesBefore = a.memory().bytes;
const kept = a.dense({ inputs: 2, units: 2, weights: [1, 0, 0, 1] });
const keptBytes = a.memory().bytes - bytesBefore;
const aBefore = a.memory();
await settle(a, 1);
const aAfter = a.memory();
// B: another runtime leaking: its own warning.
const b = await open(1 << 26);
const bBase = b.memory();
leakModels(b, 5);
const bBefore = b.memory();
await settle(b, 0);
// C: only disposed models: no warning.
const c = await open(1 << 26);
const cBase = c.memory();
for (let i = 0; i < 5; i++) c.dense({ inputs: 3, units: 3, weights: new Float32Array(9) }).dispose();
const cBefore = c.memory();
await settle(c, 0);
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 5)); }
process.stdout.write(JSON.stringify({
  a: { base: aBase, before: aBefore, after: aAfter, kept: Array.from(kept.predict([3, 4])), keptBytes },
  b: { base: bBase, before: bBefore, after: b.memory() },
  c: { base: cBase, before: cBefore, after: c.memory() },
  warnings,
}));
`;

async function gcChild(modes: Array<'dev' | 'production'>): Promise<Record<string, ChildResult>> {
  const [{ build }, { mkdtemp, writeFile, rm }, { tmpdir }, { join }, { spawn }, { fileURLToPath, pathToFileURL }] = await Promise.all([
    import('esbuild'), import('node:fs/promises'), import('node:os'), import('node:path'), import('node:child_process'), import('node:url'),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'simdnn-gc-'));
  try {
    const entry = join(dir, 'simdnn.mjs');
    await build({ entryPoints: [fileURLToPath(new URL('../src/node.ts', import.meta.url))], bundle: true, platform: 'node', format: 'esm', outfile: entry, logLevel: 'silent' });
    const script = join(dir, 'child.mjs');
    await writeFile(script, CHILD_SCRIPT);
    const wasmPath = fileURLToPath(new URL(`../build/${SIMD === 'relaxed' ? 'simdnn-relaxed.wasm' : 'simdnn-simd.wasm'}`, import.meta.url));
    const out: Record<string, ChildResult> = {};
    for (const mode of modes) {
      const flags = ['--expose-gc', ...(SIMD === 'relaxed' ? ['--experimental-wasm-relaxed-simd'] : [])];
      const child = spawn(process.execPath, [...flags, script, pathToFileURL(entry).href, wasmPath, SIMD], {
        env: { ...process.env, NODE_ENV: mode === 'production' ? 'production' : 'development' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      if (status !== 0) throw new Error(`gc child (${mode}) exited with ${status}: ${stderr}`);
      out[mode] = JSON.parse(stdout) as ChildResult;
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

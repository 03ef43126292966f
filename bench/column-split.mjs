// Does splitting a batch-1 dense layer's output units between threads help? (issue: "Dense 4096²,
// batch 1 (memory-bound): report whether splitting output columns helps".) One shared
// WebAssembly.Memory, the binary's shared-memory variant (src/wasm/shared.ts) instantiated on this
// thread and on one worker; the layer's packed panels are split in two contiguous ranges of whole
// panels, each thread runs dense_f32 (M = 1) on its range into its part of the output, and the
// threads meet through Atomics (the worker waits; this thread spins, as a pool call would await).
// Compared with one thread running the whole layer, and checked bit for bit against it.
//   node bench/column-split.mjs [--binary simd|relaxed] [--sizes 1024,2048,4096] [--reps 400]
// Needs `npm run build` (build/*.wasm) first.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const binary = arg('binary', 'simd');
const sizes = arg('sizes', '1024,2048,4096').split(',').map(Number);
const reps = Number(arg('reps', 400));
const root = fileURLToPath(new URL('../', import.meta.url));

// sharedVariant from the TypeScript source (no bundle exports it).
const built = await build({ entryPoints: [`${root}src/wasm/shared.ts`], bundle: true, format: 'esm', write: false, platform: 'neutral', logLevel: 'silent' });
const { sharedVariant } = await import(`data:text/javascript,${encodeURIComponent(built.outputFiles[0].text)}`);
const bytes = sharedVariant(readFileSync(`${root}build/simdnn-${binary}.wasm`));
const module = new WebAssembly.Module(bytes);
const maxK = Math.max(...sizes);
const memory = new WebAssembly.Memory({ initial: Math.ceil((2 * maxK * maxK * 4 * 1.05 + 16 * 2 ** 20) / 65536), maximum: 65536, shared: true });
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;

// A tiny allocator over the heap (this script owns the memory).
let top = Math.ceil(k.heap_base() / 64) * 64;
const alloc = (bytes) => { const at = top; top = Math.ceil((top + bytes + 64) / 64) * 64; return at; };
const sync = new Int32Array(memory.buffer, alloc(64), 4); // [0]: job number, [1]: done count

const worker = new Worker(`
  const { parentPort, workerData } = require('node:worker_threads');
  const { module, memory, syncAt } = workerData;
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const sync = new Int32Array(memory.buffer, syncAt, 4);
  parentPort.on('message', (job) => {
    let seen = 0;
    for (;;) {
      Atomics.wait(sync, 0, seen);
      const n = Atomics.load(sync, 0);
      if (n < 0) break;
      seen = n;
      k.dense_f32(job.out, job.x, job.packed, 1, job.K, job.N, 0, 0, 0);
      Atomics.add(sync, 1, 1);
    }
    parentPort.postMessage('stopped');
  });
`, { eval: true, workerData: { module, memory, syncAt: sync.byteOffset } });

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
console.log(`column split, batch 1, ${binary} binary, ${reps} reps each, medians (${new Date().toISOString()})`);
console.log('layer        | 1 thread  | 2 threads (units split) | speed-up | same bits');
for (const K of sizes) {
  const N = K;
  top = Math.ceil((sync.byteOffset + 64) / 64) * 64;
  const w = alloc(N * K * 4), b = alloc(N * 4), x = alloc(K * 4 + 16);
  const packedBytes = k.packed_size_f32(K, N);
  const packed = alloc(packedBytes);
  const out1 = alloc(N * 4 + 16), out2 = alloc(N * 4 + 16);
  const f = new Float32Array(memory.buffer);
  for (let i = 0; i < N * K; i++) f[(w >> 2) + i] = Math.sin(i * 0.001) * 0.05;
  for (let i = 0; i < N; i++) f[(b >> 2) + i] = Math.cos(i);
  for (let i = 0; i < K; i++) f[(x >> 2) + i] = Math.sin(i * 0.37);
  k.pack_weights_f32(packed, w, b, K, N, 0);
  const panels = Math.ceil(N / 8);
  const half = Math.floor(panels / 2);
  const panelBytes = (8 + 8 * K) * 4;
  const job = { out: out2 + half * 8 * 4, x, packed: packed + half * panelBytes, K, N: N - 8 * half };
  worker.postMessage(job);
  await new Promise((r) => setTimeout(r, 50)); // the worker is waiting
  const one = [], two = [];
  let n = Atomics.load(sync, 0);
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    k.dense_f32(out1, x, packed, 1, K, N, 0, 0, 0);
    one.push(performance.now() - t);
    t = performance.now();
    const done = Atomics.load(sync, 1);
    Atomics.store(sync, 0, ++n);
    Atomics.notify(sync, 0);
    k.dense_f32(out2, x, packed, 1, K, 8 * half, 0, 0, 0);
    while (Atomics.load(sync, 1) === done) { /* spin: the worker's half */ }
    two.push(performance.now() - t);
  }
  Atomics.store(sync, 0, -1);
  Atomics.notify(sync, 0);
  await new Promise((r) => worker.once('message', r));
  const a = new Uint32Array(memory.buffer, out1, N), c = new Uint32Array(memory.buffer, out2, N);
  const same = a.every((v, i) => v === c[i]);
  const [m1, m2] = [median(one), median(two)];
  console.log(`${`${K}×${N}`.padEnd(12)} | ${(m1 * 1000).toFixed(0).padStart(6)} µs | ${(m2 * 1000).toFixed(0).padStart(6)} µs                | ${(m1 / m2).toFixed(2)}×    | ${same}`);
  if (K !== sizes[sizes.length - 1]) { Atomics.store(sync, 0, 0); Atomics.store(sync, 1, 0); }
}
await worker.terminate();

// Why fit on the pool splits the first layer's product by units (src/train/pass.ts): an optimizer
// writing weights that the other core has just read runs several times slower than one writing
// weights only its own core reads (each write first takes the cache line back from the other core).
// Two threads, one shared WebAssembly.Memory (the binary's shared-memory variant, src/wasm/shared.ts),
// a block of weights split in two halves; each round, both threads first read weights, meet at a
// barrier, then each runs adam_f32 over its own half (weights, moments, gradients of its own):
//   all   — each thread reads every weight first (as a forward pass split by rows does);
//   own   — each thread reads only its own half (as a product split by units does).
// The median time of each thread's Adam is reported per mode, with the ratio.
//   node bench/shared-lines.mjs [--binary simd|relaxed] [--floats 267520] [--rounds 300]
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
const n = Number(arg('floats', 267520)); // half of a 784-512-256-10 MLP's parameters
const rounds = Number(arg('rounds', 300));
const root = fileURLToPath(new URL('../', import.meta.url));

// sharedVariant from the TypeScript source (no bundle exports it).
const built = await build({ entryPoints: [`${root}src/wasm/shared.ts`], bundle: true, format: 'esm', write: false, platform: 'neutral', logLevel: 'silent' });
const { sharedVariant } = await import(`data:text/javascript,${encodeURIComponent(built.outputFiles[0].text)}`);
const module = new WebAssembly.Module(sharedVariant(readFileSync(`${root}build/simdnn-${binary}.wasm`)));

// The layout (bytes): a control block, the weights of both halves side by side, then each half's
// moments and gradients. Gradients are random and normal-sized (no subnormal arithmetic).
const halfBytes = Math.ceil((n * 4) / 64) * 64;
const ctl = 1 << 20;
const weights = ctl + 64;
const state = weights + 2 * halfBytes;
const end = state + 2 * 3 * halfBytes;
const memory = new WebAssembly.Memory({ initial: Math.ceil(end / 65536) + 1, maximum: 65536, shared: true });
const f32 = new Float32Array(memory.buffer);
let s = 12345;
for (let i = weights >> 2; i < end >> 2; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  f32[i] = (s / 2 ** 32 - 0.5) * 0.1;
}

/** Run on each thread (`me` 0 or 1): rounds of [read weights, barrier, Adam on own half, barrier]. */
const threadCode = `
function run(k, memory, me, mode, n, rounds, ctl, weights, state, halfBytes) {
  const i32 = new Int32Array(memory.buffer);
  let gen = 0;
  const barrier = () => { gen++; Atomics.add(i32, ctl >> 2, 1); while (Atomics.load(i32, ctl >> 2) < 2 * gen); };
  const w = weights + me * halfBytes, m = state + me * 3 * halfBytes, v = m + halfBytes, g = v + halfBytes;
  const times = [];
  for (let r = 1; r <= rounds; r++) {
    if (mode === 'all') k.sum_squares_f32(weights, 2 * n); else k.sum_squares_f32(w, n);
    barrier();
    const t0 = performance.now();
    k.adam_f32(w, m, v, g, n, 1e-3, 0.9, 0.999, 1e-8, 0, 1 - 0.9 ** r, 1 - 0.999 ** r, 0);
    times.push(performance.now() - t0);
    barrier();
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}`;
const run = new Function(`${threadCode}; return run;`)();

async function measure(mode) {
  new Int32Array(memory.buffer)[ctl >> 2] = 0;
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    ${threadCode}
    const { module, memory, args } = workerData;
    const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
    parentPort.postMessage(run(k, memory, 1, ...args));
  `, { eval: true, workerData: { module, memory, args: [mode, n, rounds, ctl, weights, state, halfBytes] } });
  const theirs = new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const mine = run(k, memory, 0, mode, n, rounds, ctl, weights, state, halfBytes);
  const other = await theirs;
  await worker.terminate();
  return [mine, other];
}

console.log(`adam_f32 over ${n} floats per thread, 2 threads, ${binary} binary, ${rounds} rounds, Node ${process.versions.node}`);
const results = {};
for (const mode of ['own', 'all', 'own', 'all']) {
  const [a, b] = await measure(mode);
  (results[mode] ??= []).push(a, b);
  console.log(`  ${mode.padEnd(4)} reads first: Adam median ${a.toFixed(3)} ms (this thread), ${b.toFixed(3)} ms (worker)`);
}
const med = (v) => [...v].sort((p, q) => p - q)[v.length >> 1];
console.log(`every weight read by both threads first: Adam ${(med(results.all) / med(results.own)).toFixed(2)}× slower than own half only`);

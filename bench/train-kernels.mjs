// Micro-benchmark of the training kernels against the forward dense_f32, in one run, one binary:
//   node bench/train-kernels.mjs                                              # baseline SIMD128
//   node --experimental-wasm-relaxed-simd bench/train-kernels.mjs relaxed     # relaxed SIMD (FMA)
// Needs build/*.wasm (npm run asbuild). Env ROUNDS (default 21) sets the number of timed rounds.
// GFLOP/s count 2·M·N·K per product (forward, dX and dW each; dX + dW + db counts 4·M·N·K).
// The machines are shared and noisy: cases run interleaved round by round (a burst of load hits
// every case alike), and the report gives the median with the slowest and fastest round. Compare
// ratios within one run, not absolute numbers across runs.
import { readFileSync } from 'node:fs';

const binary = process.argv[2] === 'relaxed' ? 'relaxed' : 'simd';
const bytes = readFileSync(new URL(`../build/simdnn-${binary}.wasm`, import.meta.url));
const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;

let top = (k.heap_base() + 15) & ~15;
/** 16-byte-aligned block of `floats` floats plus 16 bytes of padding, as the arena allocates. */
function alloc(floats) {
  const ptr = top;
  top += Math.ceil((floats * 4) / 16) * 16 + 16;
  const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
  if (need > 0) memory.grow(need);
  return ptr;
}
function fill(ptr, n, seed, lo = -1, hi = 1) {
  const v = new Float32Array(memory.buffer, ptr, n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
}
const zero = (ptr, n) => new Float32Array(memory.buffer, ptr, n).fill(0);

const cases = [];
function bench(name, fn, work, unit) {
  cases.push({ name, fn, work, unit, reps: 1, per: [] });
}

for (const [M, K, N] of [[64, 784, 512], [32, 128, 64]]) {
  const x = alloc(M * K), w = alloc(N * K), b = alloc(N), y = alloc(M * N), dy = alloc(M * N), dx = alloc(M * K);
  const packedFloats = k.packed_size_f32(K, N) / 4;
  const packed = alloc(packedFloats), dpacked = alloc(packedFloats);
  fill(x, M * K, 1); fill(w, N * K, 2, -0.05, 0.05); fill(b, N, 3); fill(dy, M * N, 4, -1e-3, 1e-3);
  k.pack_weights_f32(packed, w, b, K, N, 0);
  zero(dpacked, packedFloats);
  const flops = 2 * M * N * K;
  const shape = `M=${M} K=${K} N=${N}`;
  bench(`forward dense_f32 (linear) ${shape}`, () => k.dense_f32(y, x, packed, M, K, N, 0, 0, 0), flops, 'GFLOP/s');
  bench(`backward dX = dY·W ${shape}`, () => k.dense_backward_f32(dx, 0, dy, x, packed, M, K, N), flops, 'GFLOP/s');
  bench(`backward dW += dYᵀ·X, db ${shape}`, () => k.dense_backward_f32(0, dpacked, dy, x, packed, M, K, N), flops, 'GFLOP/s');
  bench(`backward dX, dW, db ${shape}`, () => k.dense_backward_f32(dx, dpacked, dy, x, packed, M, K, N), 2 * flops, 'GFLOP/s');
  bench(`repack (pack_weights_f32) K=${K} N=${N}`, () => k.pack_weights_f32(packed, w, b, K, N, 0), N * K, 'Gel/s');
}

{
  const n = 1 << 20;
  const p = alloc(n), g = alloc(n), m = alloc(n), v = alloc(n), buf = alloc(n);
  fill(p, n, 5); fill(g, n, 6, -1e-3, 1e-3);
  zero(m, n); zero(v, n); zero(buf, n);
  let t = 0;
  const adam = (fn, count) => () => { t++; fn(p, m, v, g, count, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1 - 0.9 ** t, 1 - 0.999 ** t, 0); };
  bench('adam_f32 n=1M', adam(k.adam_f32, n), n, 'el/ns');
  bench('adamw_f32 n=1M', adam(k.adamw_f32, n), n, 'el/ns');
  bench('sgd_f32 n=1M (momentum 0.9)', () => k.sgd_f32(p, buf, g, n, 1e-3, 0.9, 0, 0, 0, 0), n, 'el/ns');
  bench('rmsprop_f32 n=1M', () => k.rmsprop_f32(p, v, 0, 0, g, n, 1e-3, 0.99, 1e-8, 0, 0, 0), n, 'el/ns');
  bench('sum_squares_f32 n=1M', () => k.sum_squares_f32(g, n), n, 'el/ns');
  bench('adam_f32 n=16K (slabs in L2)', adam(k.adam_f32, 1 << 14), 1 << 14, 'el/ns');
}

function runAll(rounds) {
  for (const c of cases) {
    for (let i = 0; i < 3; i++) c.fn(); // leave the baseline tier
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < c.reps; i++) c.fn();
      if (performance.now() - t0 > 10) break;
      c.reps *= 2;
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const t0 = performance.now();
      for (let i = 0; i < c.reps; i++) c.fn();
      c.per.push((performance.now() - t0) / 1000 / c.reps);
    }
  }
}

console.log(`simdnn training kernels, ${binary} binary, Node ${process.versions.node} (V8 ${process.versions.v8})`);
runAll(Number(process.env.ROUNDS ?? 21));
const fmt = (x, d = 1) => x.toFixed(d).padStart(7);
console.log(`${'kernel'.padEnd(46)} median µs     speed (slowest–fastest round)`);
for (const c of cases) {
  const per = c.per.sort((a, b) => a - b);
  const med = per[per.length >> 1];
  const speed = (t) => fmt(c.work / t / 1e9, 2);
  console.log(`${c.name.padEnd(46)} ${fmt(med * 1e6)}  ${speed(med)} ${c.unit} (${speed(per.at(-1))}–${speed(per[0])})`);
}

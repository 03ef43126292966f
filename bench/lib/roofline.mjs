// The in-run roofline: this machine's peak f32x4 throughput and read bandwidth, measured by a tiny
// hand-assembled WebAssembly module (no toolchain needed), so simdnn's kernels can be reported as a
// fraction of what wasm SIMD can do here.
//
//   peak_muladd(iters)      ACC independent accumulators, acc = acc·m + c  (f32x4.mul + f32x4.add)
//   peak_madd(iters)        the same with f32x4.relaxed_madd (relaxed builds only)
//   read_sum_S(ptr, bytes, reps)  sums `bytes` of memory into 8 f32x4 accumulators from S streams
//
// Flop counts: a mul+add pair or a madd on f32x4 is 8 flops. Bandwidth is in GB/s (1e9 bytes/s).

import { performance } from 'node:perf_hooks';

// ------------------------------------------------------------ a minimal wasm encoder

const uleb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n) => {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
};
const f32 = (v) => [...new Uint8Array(new Float32Array([v]).buffer)];
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const str = (s) => vec([...Buffer.from(s)].map((b) => [b]));

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
const OP = {
  block: 0x02, loop: 0x03, br_if: 0x0d, end: 0x0b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22,
  i32_const: 0x41, f32_const: 0x43, i32_add: 0x6a, i32_sub: 0x6b, i32_lt_u: 0x49, i32_eqz: 0x45,
};
const SIMD = (op) => [0xfd, ...uleb(op)];
const V = {
  load: (offset) => [...SIMD(0x00), 4, ...uleb(offset)],
  f32x4_splat: SIMD(0x13),
  f32x4_extract0: [...SIMD(0x1f), 0],
  f32x4_add: SIMD(0xe4),
  f32x4_mul: SIMD(0xe6),
  f32x4_relaxed_madd: SIMD(0x105),
};
const get = (i) => [OP.local_get, ...uleb(i)];
const set = (i) => [OP.local_set, ...uleb(i)];

/** Sum `acc` v128 locals starting at `first` and return lane 0 (keeps the work observable). */
function reduce(first, acc) {
  const code = [...get(first)];
  for (let k = 1; k < acc; k++) code.push(...get(first + k), ...V.f32x4_add);
  return [...code, ...V.f32x4_extract0];
}

/** peak kernel: param 0 = iters; locals 1..acc accumulators, acc+1 = m, acc+2 = c. */
function peakBody(acc, fused) {
  const m = acc + 1, c = acc + 2;
  const code = [
    OP.f32_const, ...f32(0.5), ...V.f32x4_splat, ...set(m),
    OP.f32_const, ...f32(1.0), ...V.f32x4_splat, ...set(c),
  ];
  for (let k = 0; k < acc; k++) code.push(OP.f32_const, ...f32(k * 0.01), ...V.f32x4_splat, ...set(1 + k));
  code.push(OP.block, 0x40, ...get(0), OP.i32_eqz, OP.br_if, 0, OP.loop, 0x40);
  for (let k = 0; k < acc; k++) {
    const a = 1 + k;
    if (fused) code.push(...get(a), ...get(m), ...get(c), ...V.f32x4_relaxed_madd, ...set(a));
    else code.push(...get(a), ...get(m), ...V.f32x4_mul, ...get(c), ...V.f32x4_add, ...set(a));
  }
  code.push(...get(0), OP.i32_const, 1, OP.i32_sub, OP.local_tee, 0, OP.br_if, 0, OP.end, OP.end);
  code.push(...reduce(1, acc), OP.end);
  return vec([[...uleb(acc + 2), V128]]).concat(code);
}

/**
 * read_sum(ptr, bytes, reps): 8 f32x4 accumulators fed by `streams` concurrent sequential streams
 * (stream k sweeps [ptr + k·bytes/streams, …)); several streams keep more cache misses in flight,
 * as a blocked gemv does. bytes must be a multiple of 128·streams.
 */
function readBody(streams) {
  const ACC = 8, PER = ACC / streams;
  const C = 3, A0 = 4, END = 12, B0 = 13; // cursor, accumulators, stride end, stream bases
  const code = [];
  // stride = bytes / streams; base_k = ptr + k·stride
  code.push(...get(1), OP.i32_const, ...sleb(Math.log2(streams)), 0x76 /* i32.shr_u */, ...set(END));
  for (let k = 0; k < streams; k++) {
    code.push(...get(0), ...get(END), OP.i32_const, ...sleb(k), 0x6c /* i32.mul */, OP.i32_add, ...set(B0 + k));
  }
  code.push(OP.block, 0x40, OP.loop, 0x40); // reps loop
  code.push(OP.i32_const, 0, ...set(C));
  code.push(OP.loop, 0x40); // sweep
  for (let k = 0; k < streams; k++) {
    for (let j = 0; j < PER; j++) {
      const a = A0 + k * PER + j;
      code.push(...get(a), ...get(C), ...get(B0 + k), OP.i32_add, ...V.load(16 * j), ...V.f32x4_add, ...set(a));
    }
  }
  code.push(...get(C), OP.i32_const, ...sleb(16 * PER), OP.i32_add, OP.local_tee, C, ...get(END), OP.i32_lt_u, OP.br_if, 0, OP.end);
  code.push(...get(2), OP.i32_const, 1, OP.i32_sub, OP.local_tee, 2, OP.br_if, 0, OP.end, OP.end);
  code.push(...reduce(A0, ACC), OP.end);
  return vec([[1, I32], [ACC, V128], [1 + streams, I32]]).concat(code);
}

function moduleBytes({ pages, relaxed, accs }) {
  const types = [
    [0x60, ...vec([[I32]]), ...vec([[F32]])], // (i32) -> f32
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([[F32]])], // (i32 i32 i32) -> f32
  ];
  const funcs = []; // [name, type, body]
  for (const a of accs) funcs.push([`peak_muladd_${a}`, 0, peakBody(a, false)]);
  if (relaxed) for (const a of accs) funcs.push([`peak_madd_${a}`, 0, peakBody(a, true)]);
  for (const st of STREAMS) funcs.push([`read_sum_${st}`, 1, readBody(st)]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(funcs.map(([, t]) => uleb(t)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec([
      [...str('memory'), 0x02, 0],
      ...funcs.map(([name], i) => [...str(name), 0x00, ...uleb(i)]),
    ])),
    ...section(10, vec(funcs.map(([, , body]) => [...uleb(body.length), ...body]))),
  ];
  return new Uint8Array(bytes);
}

// ------------------------------------------------------------ measurement

const MiB = 1 << 20;
export const BANDWIDTH_SIZES = [
  { label: '32 KiB', bytes: 32 * 1024 },
  { label: '1 MiB', bytes: MiB },
  { label: '4 MiB', bytes: 4 * MiB },
  { label: '64 MiB', bytes: 64 * MiB },
];
const STREAMS = [1, 2, 4, 8];
const ACCS = [8, 10, 12]; // 14+ spills: V8 has 16 xmm registers and needs m, c and a scratch

function best(times, fn) {
  let top = 0;
  for (let i = 0; i < times; i++) top = Math.max(top, fn());
  return top;
}

/**
 * Measure. `relaxed` adds the relaxed-madd peak (the engine must validate relaxed SIMD).
 * @returns {{peakMulAddGflops: number, peakMaddGflops: number | null, accumulators: object,
 *            bandwidth: {label: string, bytes: number, gbps: number}[]}}
 */
export function measureRoofline({ relaxed, quick, log = () => {} }) {
  const pages = 64 * 16 + 16; // 64 MiB + slack
  const mod = new WebAssembly.Module(moduleBytes({ pages, relaxed, accs: ACCS }));
  const ex = new WebAssembly.Instance(mod, {}).exports;
  const repeats = quick ? 3 : 7;

  const peak = (name, acc) => {
    const f = ex[`${name}_${acc}`];
    for (let i = 0; i < 5; i++) f(1000); // tier up to optimised code
    let iters = 1e5;
    for (;;) { // calibrate to ~20 ms (quick: ~8 ms) per measurement
      const t0 = performance.now();
      f(iters);
      const dt = performance.now() - t0;
      if (dt > (quick ? 8 : 20)) break;
      iters *= 2;
    }
    return best(repeats, () => {
      const t0 = performance.now();
      f(iters);
      const s = (performance.now() - t0) / 1e3;
      return (iters * acc * 8) / s / 1e9;
    });
  };

  const accumulators = {};
  let peakMulAdd = 0, peakMadd = null;
  for (const a of ACCS) {
    const g = peak('peak_muladd', a);
    accumulators[`muladd_${a}`] = g;
    peakMulAdd = Math.max(peakMulAdd, g);
  }
  log(`peak f32x4 mul+add ${peakMulAdd.toFixed(1)} GFLOP/s`);
  if (relaxed) {
    peakMadd = 0;
    for (const a of ACCS) {
      const g = peak('peak_madd', a);
      accumulators[`madd_${a}`] = g;
      peakMadd = Math.max(peakMadd, g);
    }
    log(`peak f32x4 relaxed_madd ${peakMadd.toFixed(1)} GFLOP/s`);
  }

  // Fill memory with real data: untouched pages may all map to one zero page and fake bandwidth.
  const mem = new Float32Array(ex.memory.buffer);
  for (let i = 0; i < 64 * MiB / 4; i++) mem[i] = (i & 1023) * 1e-3;
  const bandwidth = BANDWIDTH_SIZES.map(({ label, bytes }) => {
    const reps = Math.max(1, Math.round((quick ? 128 : 512) * MiB / bytes));
    const byStreams = {};
    for (const st of STREAMS) {
      const f = ex[`read_sum_${st}`];
      for (let i = 0; i < 3; i++) f(0, bytes, Math.max(1, reps >> 3));
      byStreams[st] = best(repeats, () => {
        const t0 = performance.now();
        f(0, bytes, reps);
        return (bytes * reps) / ((performance.now() - t0) / 1e3) / 1e9;
      });
    }
    const gbps = Math.max(...Object.values(byStreams));
    log(`read bandwidth ${label}: ${gbps.toFixed(1)} GB/s (by streams ${Object.entries(byStreams).map(([k, v]) => `${k}: ${v.toFixed(1)}`).join(', ')})`);
    return { label, bytes, gbps, byStreams };
  });
  return { peakMulAddGflops: peakMulAdd, peakMaddGflops: peakMadd, accumulators, bandwidth };
}

/** The bandwidth level matching a working set: ≤ 48 KiB → 32 KiB, ≤ 1.5 MiB → 1 MiB,
 *  ≤ 6 MiB → 4 MiB, else 64 MiB (DRAM). */
export function bandwidthFor(roofline, workingSet) {
  const label = workingSet <= 48 * 1024 ? '32 KiB' : workingSet <= 1.5 * MiB ? '1 MiB' : workingSet <= 6 * MiB ? '4 MiB' : '64 MiB';
  return roofline.bandwidth.find((b) => b.label === label);
}

/** Whether this engine validates relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported() {
  return WebAssembly.validate(moduleBytes({ pages: 1, relaxed: true, accs: [1] }));
}

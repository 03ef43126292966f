// The training kernels (assembly/gemm_backward.ts) against the float64 oracles
// of reference-backward.ts, on the binary of this vitest project (baseline or relaxed SIMD). The
// binary is instantiated directly (test/kernels.ts): every buffer is placed by hand, with guard
// bytes around it that must survive each call, at misaligned (4-byte) starts, and at the very end
// of memory where an over-read traps.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rand } from './reference.js';
import { pack, packedFloats, packedIndex, refDenseBackward, unpack } from './reference-backward.js';
import { loadKernels, type Heap, type TrainKernels } from './kernels.js';
import { SIMD } from './runtime.js';
import { dotTolerance, EPS } from './tolerances.js';

let k: TrainKernels;
let heap: Heap;
beforeAll(async () => {
  ({ k, heap } = await loadKernels());
});
beforeEach(() => heap.reset());

/** Asserts |actual[i] − ref[i]| ≤ tol(i) for every i; NaN must meet NaN. Reports the worst index. */
function expectClose(actual: ArrayLike<number>, ref: ArrayLike<number>, tol: (i: number) => number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(ref.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const a = actual[i]!;
    const r = ref[i]!;
    const q = Number.isNaN(a) || Number.isNaN(r) ? (Number.isNaN(a) && Number.isNaN(r) ? 0 : Infinity) : Math.abs(a - r) / tol(i);
    if (!(q <= worst)) { worst = q; at = i; }
  }
  expect(worst, `${what}: worst at ${at}: ${actual[at]} vs ${ref[at]} (tolerance ${at >= 0 ? tol(at) : 0})`).toBeLessThanOrEqual(1);
}

const SIZES = [0, 1, 3, 4, 5, 7, 8, 9, 17, 33];

// ---------------------------------------------------------------------------------------------

describe(`dense_backward_f32 (${SIMD} binary)`, () => {
  /** Runs the kernel on fresh buffers (misaligned by `mis` bytes) and checks it against float64. */
  function check(M: number, K: number, N: number, seed: number, mis: number): void {
    const x = rand(M * K, seed, -2, 2);
    const w = rand(N * K, seed + 1, -1, 1);
    const b = rand(N, seed + 2, -1, 1);
    const dy = rand(M * N, seed + 3, -1, 1);
    const dw0 = rand(N * K, seed + 4, -1, 1);
    const db0 = rand(N, seed + 5, -1, 1);
    const P = heap.put(pack(w, b, K, N), mis);
    const DP = heap.put(pack(dw0, db0, K, N), (mis + 4) % 16);
    const X = heap.put(x, (mis + 8) % 16);
    const DY = heap.put(dy, (mis + 12) % 16);
    const DX = heap.alloc(M * K, mis);
    k.dense_backward_f32(DX, DP, DY, X, P, M, K, N);
    heap.checkGuards();
    const ref = refDenseBackward(dy, x, w, M, K, N);
    const what = `M=${M} K=${K} N=${N}`;
    expectClose(heap.read(DX, M * K), ref.dx, (i) => dotTolerance(N) * ref.dxAbs[i]! + 1e-30, `${what} dX`);
    const got = unpack(heap.read(DP, packedFloats(K, N)), K, N);
    expectClose(got.w, ref.dw.map((v, i) => v + dw0[i]!), (i) => dotTolerance(M) * (ref.dwAbs[i]! + Math.abs(dw0[i]!)) + 1e-30, `${what} dW`);
    expectClose(got.b, ref.db.map((v, i) => v + db0[i]!), (i) => dotTolerance(M) * (ref.dbAbs[i]! + Math.abs(db0[i]!)) + 1e-30, `${what} db`);
    expect(got.padding.every((v) => Object.is(v, 0)), `${what}: padding lanes stay +0`).toBe(true);
  }

  it(`every M, K, N in {${SIZES.join(',')}}: dX overwritten, dW and db accumulated, padding +0, misaligned buffers`, () => {
    let c = 0;
    for (const M of SIZES) {
      for (const K of SIZES) {
        for (const N of SIZES) {
          heap.reset();
          check(M, K, N, 1000 * M + 100 * K + N, 4 * (c++ % 4));
        }
      }
    }
  });

  it('layer-sized shapes: 64×784→512, 32×128→64, 2×300→129, 65×31→257, 1×50→3', () => {
    for (const [M, K, N] of [[64, 784, 512], [32, 128, 64], [2, 300, 129], [65, 31, 257], [1, 50, 3]] as const) {
      heap.reset();
      check(M, K, N, M + K + N, 0);
    }
  });

  it('dx = 0 skips dX, dpacked = 0 skips dW/db (same bits either way); dx may be x itself', () => {
    const [M, K, N] = [7, 13, 11];
    const x = rand(M * K, 1), dy = rand(M * N, 2), P = heap.put(pack(rand(N * K, 3), rand(N, 4), K, N));
    const DY = heap.put(dy);
    const X = heap.put(x);
    const DX = heap.alloc(M * K);
    const zeros = new Float32Array(packedFloats(K, N));
    const DP = heap.put(zeros);
    k.dense_backward_f32(DX, DP, DY, X, P, M, K, N);
    const DP2 = heap.put(zeros);
    k.dense_backward_f32(0, DP2, DY, X, P, M, K, N);
    const DX2 = heap.alloc(M * K);
    k.dense_backward_f32(DX2, 0, DY, X, P, M, K, N);
    expect(heap.read(DP2, zeros.length)).toEqual(heap.read(DP, zeros.length));
    expect(heap.read(DX2, M * K)).toEqual(heap.read(DX, M * K));
    // In place: dX overwrites the input X after dW has read it.
    const X3 = heap.put(x);
    const DP3 = heap.put(zeros);
    k.dense_backward_f32(X3, DP3, DY, X3, P, M, K, N);
    expect(heap.read(X3, M * K)).toEqual(heap.read(DX, M * K));
    expect(heap.read(DP3, zeros.length)).toEqual(heap.read(DP, zeros.length));
    heap.checkGuards();
  });

  it('reads no further than 16 bytes past any input: dY, X and the panels each at the end of memory', () => {
    for (const [M, K, N] of [[3, 5, 13], [2, 9, 4], [1, 3, 1], [5, 2, 7]] as const) {
      const x = rand(M * K, M, -1, 1), dy = rand(M * N, N, -1, 1), packed = pack(rand(N * K, K), rand(N, 1), K, N);
      const run = (where: 'x' | 'dy' | 'packed') => {
        heap.reset();
        const DX = heap.alloc(M * K);
        const DP = heap.put(new Float32Array(packed.length));
        const X = where === 'x' ? 0 : heap.put(x);
        const DY = where === 'dy' ? 0 : heap.put(dy);
        const P = where === 'packed' ? 0 : heap.put(packed);
        const last = heap.putAtEnd(where === 'x' ? x : where === 'dy' ? dy : packed);
        k.dense_backward_f32(DX, DP, where === 'dy' ? last : DY, where === 'x' ? last : X, where === 'packed' ? last : P, M, K, N);
        return [...heap.read(DX, M * K), ...heap.read(DP, packed.length)];
      };
      const normal = run('packed');
      expect(run('x'), `M=${M} K=${K} N=${N}, x last`).toEqual(normal);
      expect(run('dy'), `M=${M} K=${K} N=${N}, dy last`).toEqual(normal);
    }
  });

  it('NaN in dY[m][n] spreads to dX row m, dW row n and db[n] only; NaN in X[m][k] to dW column k only', () => {
    const [M, K, N] = [5, 9, 11];
    const x = rand(M * K, 1), dy = rand(M * N, 2), P = heap.put(pack(rand(N * K, 3), rand(N, 4), K, N));
    dy[2 * N + 6] = NaN;
    x[3 * K + 4] = NaN;
    const DX = heap.alloc(M * K);
    const DP = heap.put(new Float32Array(packedFloats(K, N)));
    k.dense_backward_f32(DX, DP, heap.put(dy), heap.put(x), P, M, K, N);
    const dx = heap.read(DX, M * K);
    for (let m = 0; m < M; m++) for (let j = 0; j < K; j++) expect(Number.isNaN(dx[m * K + j]!), `dX[${m}][${j}]`).toBe(m === 2);
    const g = unpack(heap.read(DP, packedFloats(K, N)), K, N);
    for (let n = 0; n < N; n++) {
      expect(Number.isNaN(g.b[n]!), `db[${n}]`).toBe(n === 6);
      for (let j = 0; j < K; j++) expect(Number.isNaN(g.w[n * K + j]!), `dW[${n}][${j}]`).toBe(n === 6 || j === 4);
    }
  });

  it('central differences of Σ dY ⊙ dense_f32(X, W, b) match dX, dW and db', () => {
    const [M, K, N] = [3, 6, 10];
    const x = rand(M * K, 5, -1, 1), w = rand(N * K, 6, -1, 1), b = rand(N, 7, -1, 1), dy = rand(M * N, 8, -1, 1);
    const Y = heap.alloc(M * N);
    const X = heap.put(x);
    const P = heap.put(pack(w, b, K, N));
    const objective = () => {
      k.dense_f32(Y, X, P, M, K, N, 0, 0, 0);
      const y = heap.read(Y, M * N);
      return y.reduce((s, v, i) => s + v * dy[i]!, 0);
    };
    const DX = heap.alloc(M * K);
    const DP = heap.put(new Float32Array(packedFloats(K, N)));
    k.dense_backward_f32(DX, DP, heap.put(dy), X, P, M, K, N);
    const dx = heap.read(DX, M * K);
    const dp = heap.read(DP, packedFloats(K, N));
    // The objective is linear in each parameter, so a large step (exact in float32) is exact too.
    const h = 0.125;
    const fd = (ptr: number, i: number) => {
      const v = heap.view(ptr, i + 1);
      const keep = v[i]!;
      v[i] = keep + h;
      const up = objective();
      heap.view(ptr, i + 1)[i] = keep - h;
      const down = objective();
      heap.view(ptr, i + 1)[i] = keep;
      return (up - down) / (2 * h);
    };
    for (let i = 0; i < M * K; i++) expect(fd(X, i), `dX ${i}`).toBeCloseTo(dx[i]!, 5);
    for (let n = 0; n < N; n++) {
      for (let j = -1; j < K; j++) expect(fd(P, packedIndex(n, j, K)), `d${j < 0 ? 'b' : 'W'}[${n}][${j}]`).toBeCloseTo(dp[packedIndex(n, j, K)]!, 5);
    }
  });
});

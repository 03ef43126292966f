// The training kernels (assembly/gemm_backward.ts, loss.ts, optim.ts) against the float64 oracles
// of reference-backward.ts, on the binary of this vitest project (baseline or relaxed SIMD). The
// binary is instantiated directly (test/kernels.ts): every buffer is placed by hand, with guard
// bytes around it that must survive each call, at misaligned (4-byte) starts, and at the very end
// of memory where an over-read traps.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rand, refActivation } from './reference.js';
import { ACTIVATION_KINDS } from '../src/activations.js';
import { ELEMENTWISE_ACTIVATIONS } from '../src/activation-table.js';
import {
  pack, packedFloats, packedIndex, refActivationDerivative, refDropoutMask, refAdamStep, refPreluBackward, refDenseBackward, refMae, refMse, refRmspropStep, refSgdStep,
  refSigmoidBce, refSoftmaxCrossEntropy, refSoftmaxCrossEntropyProbs, unpack,
  type AdamOptions, type DerivParams, type LossRef, type RmspropOptions, type SgdOptions,
} from './reference-backward.js';
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

  it('dense_backward_params_f32 on units [u0, u0+n) of wider dY rows gives those panels of the whole call, bit for bit, and writes nothing else', () => {
    for (const [M, K, N] of [[7, 13, 29], [1, 5, 8], [33, 4, 17], [5, 31, 64], [3, 1, 9]] as const) {
      heap.reset();
      const x = rand(M * K, M + K), dy = rand(M * N, N), dw0 = rand(N * K, 7), db0 = rand(N, 8);
      const P = heap.put(pack(rand(N * K, 3), rand(N, 4), K, N));
      const DY = heap.put(dy, 4);
      const X = heap.put(x, 8);
      const start = pack(dw0, db0, K, N);
      const whole = heap.put(start);
      k.dense_backward_f32(0, whole, DY, X, P, M, K, N);
      const parts = heap.put(start, 12);
      const panel = 8 + 8 * K;
      const panels = Math.ceil(N / 8);
      // Split the panels in up to three ranges, as the pool's threads do.
      const cuts = [...new Set([0, Math.floor(panels / 3), Math.floor((2 * panels) / 3), panels])];
      for (let c = 0; c + 1 < cuts.length; c++) {
        const [p0, p1] = [cuts[c]!, cuts[c + 1]!];
        if (p0 === p1) continue;
        const n = Math.min(8 * p1, N) - 8 * p0;
        k.dense_backward_params_f32(parts + 4 * p0 * panel, DY + 4 * 8 * p0, X, M, K, n, N);
      }
      heap.checkGuards();
      expect(heap.read(parts, start.length), `M=${M} K=${K} N=${N}`).toEqual(heap.read(whole, start.length));
    }
    // Nothing happens for ldy < N or an empty range.
    const D = heap.put(new Float32Array(16 + 16).fill(1));
    k.dense_backward_params_f32(D, heap.put(new Float32Array(8)), heap.put(new Float32Array(1)), 1, 1, 8, 7);
    k.dense_backward_params_f32(D, heap.put(new Float32Array(8)), heap.put(new Float32Array(1)), 1, 1, 0, 8);
    expect(Array.from(heap.read(D, 16)).every((v) => v === 1)).toBe(true);
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

// ---------------------------------------------------------------------------------------------

/** Central difference of a loss kernel at element i of `input` (the exact float32 step is used). */
function lossFd(call: () => number, ptr: number, i: number, h: number): number {
  const v = heap.view(ptr, i + 1);
  const keep = v[i]!;
  v[i] = keep + h;
  const hi = Math.fround(keep + h);
  const up = call();
  heap.view(ptr, i + 1)[i] = keep - h;
  const lo = Math.fround(keep - h);
  const down = call();
  heap.view(ptr, i + 1)[i] = keep;
  return (up - down) / (hi - lo);
}

describe(`losses (${SIMD} binary)`, () => {
  const COLS = [1, 3, 4, 5, 7, 8, 9, 17, 33, 1023];

  it(`softmax cross-entropy with class indices (ignore_index rows), cols in {${COLS.join(',')}}, in place or not`, () => {
    for (const cols of COLS) {
      for (const rows of [1, 3, 5]) {
        heap.reset();
        const z = rand(rows * cols, cols * 7 + rows, -10, 10);
        const labels = Array.from({ length: rows }, (_, r) => (rows > 1 && r === 1 ? -100 : (r * 7 + cols) % cols));
        const ref = refSoftmaxCrossEntropy(z, labels, rows, cols);
        const count = labels.filter((t) => t >= 0).length;
        const L = heap.putI32(labels);
        const tol = (cols / 4 + 8) * EPS;
        for (const inPlace of [false, true]) {
          const Z = heap.put(z, 4 * (cols % 4));
          const G = inPlace ? Z : heap.alloc(rows * cols, 8);
          const loss = k.softmax_cross_entropy_f32(G, Z, L, rows, cols);
          heap.checkGuards();
          const what = `${rows}×${cols}${inPlace ? ' in place' : ''}`;
          expect(Math.abs(loss - ref.loss), `${what} loss ${loss} vs ${ref.loss}`).toBeLessThanOrEqual(tol * (1 + Math.abs(ref.loss)));
          expectClose(heap.read(G, rows * cols), ref.grad, () => tol / count, `${what} grad`);
        }
      }
    }
  });

  it('softmax cross-entropy: logits near ±1e4, labels out of range, every row ignored, NaN', () => {
    const cols = 6;
    const z = Float32Array.of(1e4, 1e4 + 1, 9999, 1e4 - 30, 1e4, 1e4, -1e4, -1e4 + 2, -1e4, -1e4 - 50, -1e4, -1e4 + 1);
    const ref = refSoftmaxCrossEntropy(z, [1, 3], 2, cols);
    const G = heap.alloc(12);
    const loss = k.softmax_cross_entropy_f32(G, heap.put(z), heap.putI32([1, 3]), 2, cols);
    expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-5 * ref.loss);
    expectClose(heap.read(G, 12), ref.grad, () => 1e-6, 'grad near ±1e4');
    // A label ≥ cols: that row (and the loss) NaN, the others exact.
    const z2 = rand(3 * cols, 3, -3, 3);
    const G2 = heap.alloc(3 * cols);
    expect(k.softmax_cross_entropy_f32(G2, heap.put(z2), heap.putI32([0, cols, 2]), 3, cols)).toBeNaN();
    const g2 = heap.read(G2, 3 * cols);
    expect(g2.slice(cols, 2 * cols).every(Number.isNaN)).toBe(true);
    expect([...g2.slice(0, cols), ...g2.slice(2 * cols)].every(Number.isFinite)).toBe(true);
    // Every row ignored: NaN loss (PyTorch's 0/0), zero gradient.
    const G3 = heap.alloc(2 * cols);
    expect(k.softmax_cross_entropy_f32(G3, heap.put(z2), heap.putI32([-100, -1]), 2, cols)).toBeNaN();
    expect(Array.from(heap.read(G3, 2 * cols))).toEqual(new Array(2 * cols).fill(0));
    // NaN in a logit: the loss and that row's gradient are NaN, the other rows are not.
    const z4 = rand(3 * cols, 4, -3, 3);
    z4[cols + 2] = NaN;
    const G4 = heap.alloc(3 * cols);
    expect(k.softmax_cross_entropy_f32(G4, heap.put(z4), heap.putI32([0, 1, 2]), 3, cols)).toBeNaN();
    const g4 = heap.read(G4, 3 * cols);
    expect(g4.slice(cols, 2 * cols).every(Number.isNaN)).toBe(true);
    expect([...g4.slice(0, cols), ...g4.slice(2 * cols)].every(Number.isFinite)).toBe(true);
    heap.checkGuards();
  });

  it(`softmax cross-entropy with probability targets (soft, one-hot, unnormalised), cols in {${COLS.join(',')}}`, () => {
    for (const cols of COLS) {
      for (const rows of [1, 4]) {
        heap.reset();
        const z = rand(rows * cols, cols + rows, -8, 8);
        const t = rand(rows * cols, cols * 3 + rows, 0, 1);
        for (let r = 0; r < rows; r++) {
          const s = t.subarray(r * cols, (r + 1) * cols).reduce((a, v) => a + v, 0);
          if (r !== rows - 1) for (let c = 0; c < cols; c++) t[r * cols + c]! /= s; // last row: sum ≠ 1
        }
        const ref = refSoftmaxCrossEntropyProbs(z, t, rows, cols);
        const tol = (cols / 4 + 8) * EPS;
        for (const inPlace of [false, true]) {
          const Z = heap.put(z, 12);
          const G = inPlace ? Z : heap.alloc(rows * cols, 4);
          const loss = k.softmax_cross_entropy_probs_f32(G, Z, heap.put(t), rows, cols);
          heap.checkGuards();
          const what = `${rows}×${cols}${inPlace ? ' in place' : ''}`;
          expect(Math.abs(loss - ref.loss), `${what} loss ${loss} vs ${ref.loss}`).toBeLessThanOrEqual(tol * (cols + Math.abs(ref.loss)));
          expectClose(heap.read(G, rows * cols), ref.grad, () => (tol * cols) / rows, `${what} grad`);
        }
      }
    }
    // One-hot rows agree with the class-index kernel.
    const [rows, cols] = [4, 9];
    const z = rand(rows * cols, 9, -5, 5);
    const labels = [3, 0, 8, 5];
    const onehot = new Float32Array(rows * cols);
    labels.forEach((c, r) => { onehot[r * cols + c] = 1; });
    const G1 = heap.alloc(rows * cols), G2 = heap.alloc(rows * cols);
    const a = k.softmax_cross_entropy_f32(G1, heap.put(z), heap.putI32(labels), rows, cols);
    const b = k.softmax_cross_entropy_probs_f32(G2, heap.put(z), heap.put(onehot), rows, cols);
    expect(Math.abs(a - b)).toBeLessThan(1e-6 * a);
    expectClose(heap.read(G2, rows * cols), heap.read(G1, rows * cols), () => 1e-7, 'one-hot vs index');
  });

  it('sigmoid binary cross-entropy over n in {0,…,1023}: loss via softplus, grad relatively accurate in both tails', () => {
    for (const n of [...SIZES, 15, 16, 31, 1023]) {
      heap.reset();
      const z = rand(n, n + 1, -30, 30);
      const t = rand(n, n + 2, 0, 1).map((v, i) => (i % 3 === 0 ? v : i % 3 === 1 ? 1 : 0));
      // σ(80) − 1 = −e^−80 keeps its relative accuracy (not 0); past |z| ≈ 87 e^−|z| is no longer a
      // normal float and the gradient is ±0 (an absolute error below 2⁻¹²⁶/n).
      if (n > 3) { z[0] = 0; z[1] = 80; z[2] = -80; z[3] = 100; }
      const ref = refSigmoidBce(z, t);
      const G = heap.alloc(n, 4);
      const loss = k.sigmoid_binary_cross_entropy_f32(G, heap.put(z, 8), heap.put(t, 12), n);
      heap.checkGuards();
      if (n === 0) { expect(loss).toBeNaN(); continue; }
      const lossTol = z.reduce((s, v) => s + 4 * EPS * (Math.abs(v) + 1), 0) / n;
      expect(Math.abs(loss - ref.loss), `n=${n} loss ${loss} vs ${ref.loss}`).toBeLessThanOrEqual(lossTol);
      // Relative to the two terms (1−t)σ(z) and tσ(−z): tiny tails keep their relative accuracy.
      const scale = (i: number) => ((1 - t[i]!) * (1 / (1 + Math.exp(-z[i]!))) + t[i]! * (1 / (1 + Math.exp(z[i]!)))) / n;
      expectClose(heap.read(G, n), ref.grad, (i) => 8 * EPS * scale(i) + 2 ** -126 / n, `n=${n} grad`);
    }
  });

  it('mse and mae over n in {0,…,1023}: PyTorch reduction=mean, sign(0) = 0; grad may overwrite y or t', () => {
    for (const n of [...SIZES, 15, 16, 31, 1023]) {
      heap.reset();
      const y = rand(n, n + 3, -3, 3);
      const t = rand(n, n + 4, -3, 3);
      if (n > 1) t[1] = y[1]!; // equality: MAE gradient 0
      for (const [name, fn, refFn, tol] of [
        ['mse', k.mse_f32, refMse, 3 * EPS], ['mae', k.mae_f32, refMae, 2 * EPS],
      ] as const) {
        const ref = refFn(y, t);
        for (const alias of ['none', 'y', 't'] as const) {
          const Y = heap.put(y, 4), T = heap.put(t, 8);
          const G = alias === 'y' ? Y : alias === 't' ? T : heap.alloc(n, 12);
          const loss = fn(G, Y, T, n);
          heap.checkGuards();
          if (n === 0) { expect(loss).toBeNaN(); continue; }
          expect(Math.abs(loss - ref.loss), `${name} n=${n} loss`).toBeLessThanOrEqual(tol * ref.loss);
          expectClose(heap.read(G, n), ref.grad, (i) => tol * Math.abs(ref.grad[i]!), `${name} n=${n} grad (grad = ${alias})`);
        }
      }
    }
  });

  it('NaN in an element: the loss and that gradient element are NaN, the neighbours are not', () => {
    const n = 11;
    for (const fn of [k.sigmoid_binary_cross_entropy_f32, k.mse_f32, k.mae_f32]) {
      for (const where of ['y', 't'] as const) {
        heap.reset();
        const y = rand(n, 1), t = rand(n, 2, 0, 1);
        (where === 'y' ? y : t)[5] = NaN;
        const G = heap.alloc(n);
        expect(fn(G, heap.put(y), heap.put(t), n)).toBeNaN();
        const g = heap.read(G, n);
        g.forEach((v, i) => expect(Number.isNaN(v), `${fn.name} NaN in ${where}: grad[${i}]`).toBe(i === 5));
      }
    }
  });

  it('every gradient is the central difference of its returned loss (mean scaling, signs)', () => {
    const [rows, cols] = [3, 5];
    const z = rand(rows * cols, 21, -2, 2);
    const t = rand(rows * cols, 22, 0, 1);
    const y = rand(rows * cols, 23, -2, 2);
    const labels = [4, -100, 1];
    const cases: Array<[string, (g: number, a: number) => number, Float32Array]> = [
      ['softmax_cross_entropy', (g, a) => k.softmax_cross_entropy_f32(g, a, heap.putI32(labels), rows, cols), z],
      ['softmax_cross_entropy_probs', (g, a) => k.softmax_cross_entropy_probs_f32(g, a, heap.put(t), rows, cols), z],
      ['sigmoid_binary_cross_entropy', (g, a) => k.sigmoid_binary_cross_entropy_f32(g, a, heap.put(t), rows * cols), z],
      ['mse', (g, a) => k.mse_f32(g, a, heap.put(t), rows * cols), y],
      ['mae', (g, a) => k.mae_f32(g, a, heap.put(t), rows * cols), y],
    ];
    for (const [name, call, input] of cases) {
      heap.reset();
      const A = heap.put(input);
      const G = heap.alloc(input.length);
      call(G, A);
      const grad = heap.read(G, input.length);
      const scratch = heap.alloc(input.length);
      for (let i = 0; i < input.length; i++) {
        const fd = lossFd(() => call(scratch, A), A, i, 1e-2);
        expect(Math.abs(fd - grad[i]!), `${name}: element ${i}, fd ${fd} vs grad ${grad[i]}`).toBeLessThanOrEqual(2e-3 * Math.abs(grad[i]!) + 2e-5);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe(`optimizers (${SIMD} binary)`, () => {
  const NS = [0, 1, 3, 4, 5, 7, 8, 9, 17, 33, 1023];
  const STEPS = 5;

  /** Runs `steps` optimizer steps on the kernel (float32 slabs) and the reference (float64 state)
   *  with the same gradients; compares params and state after every step. tol gets the element's
   *  largest |gradient| so far: moments and buffers are sums of terms of that size whose result may
   *  be much smaller (a lerp towards a gradient of the other sign), so their rounding error scales
   *  with it, not with the result. */
  function compare(
    what: string, n: number, slabs: string[],
    kernelStep: (ptrs: Record<string, number>, grad: number, t: number) => void,
    refStep: (state: Record<string, Float64Array>, grad: Float32Array, t: number) => void,
    tol: (name: string, ref: number, gmax: number) => number,
  ): void {
    heap.reset();
    const p0 = rand(n, n + 7, -1, 1);
    const ptrs: Record<string, number> = {};
    const state: Record<string, Float64Array> = {};
    slabs.forEach((name, j) => {
      ptrs[name] = heap.put(name === 'param' ? p0 : new Float32Array(n), 4 * (j % 4));
      state[name] = name === 'param' ? Float64Array.from(p0) : new Float64Array(n);
    });
    const gmax = new Float64Array(n);
    for (let t = 1; t <= STEPS; t++) {
      const g = rand(n, 100 * t + n, -1, 1).map((v, i) => (i % 5 === 0 ? v * 1e-3 : v));
      g.forEach((v, i) => { gmax[i] = Math.max(gmax[i]!, Math.abs(v)); });
      const G = heap.put(g, 4);
      kernelStep(ptrs, G, t);
      heap.checkGuards();
      refStep(state, g, t);
      for (const name of slabs) {
        expectClose(heap.read(ptrs[name]!, n), state[name]!, (i) => t * tol(name, state[name]![i]!, gmax[i]!), `${what} n=${n} step ${t} ${name}`);
      }
    }
  }

  const sgdConfigs: SgdOptions[] = [
    { lr: 0.1 }, { lr: 0.05, momentum: 0.9 }, { lr: 0.05, momentum: 0.9, nesterov: true },
    { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 }, { lr: 0.1, weightDecay: 0.1 },
  ];
  for (const o of sgdConfigs) {
    it(`sgd ${JSON.stringify(o)}: torch.optim.SGD (buffer = g on step 1 via dampening 0)`, () => {
      for (const n of NS) {
        compare(`sgd`, n, ['param', 'buf'],
          (s, g, t) => k.sgd_f32(s.param!, o.momentum ? s.buf! : 0, g, n, o.lr, o.momentum ?? 0, t === 1 ? 0 : o.dampening ?? 0, o.weightDecay ?? 0, o.nesterov ? 1 : 0, 0),
          (s, g, t) => refSgdStep(s.param!, s.buf!, g, t, o),
          // |buf| ≤ max|g|/(1 − momentum) ≤ 10·max|g| (+ weight decay ≤ 0.1·|p|)
          (name, r, g) => 4 * EPS * (Math.abs(r) + (name === 'param' ? 1 : 10 * g + 0.1)));
      }
    });
  }

  const adamConfigs: AdamOptions[] = [
    { lr: 1e-3 }, { lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-6 }, { lr: 0.01, weightDecay: 0.1 },
    { lr: 0.01, weightDecay: 0.1, decoupled: true }, { lr: 1e-3, weightDecay: 0.01, decoupled: true },
  ];
  for (const o of adamConfigs) {
    it(`${o.decoupled ? 'adamw' : 'adam'} ${JSON.stringify(o)}: torch.optim.${o.decoupled ? 'AdamW' : 'Adam'}, bias corrections from the caller`, () => {
      const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999;
      const fn = o.decoupled ? k.adamw_f32 : k.adam_f32;
      for (const n of NS) {
        compare(o.decoupled ? 'adamw' : 'adam', n, ['param', 'm', 'v'],
          (s, g, t) => fn(s.param!, s.m!, s.v!, g, n, o.lr, b1, b2, o.eps ?? 1e-8, o.weightDecay ?? 0, 1 - b1 ** t, 1 - b2 ** t, 0),
          (s, g, t) => refAdamStep(s.param!, s.m!, s.v!, g, t, o),
          // param: rounding of p plus a few ulps of the step (|step| ≤ lr/(1−β1)); state: a few ulps.
          (name, r, g) => {
            const gw = g + (o.decoupled ? 0 : o.weightDecay ?? 0); // L2 adds wd·p, |p| ≲ 1
            return name === 'param' ? 4 * EPS * Math.abs(r) + 16 * EPS * o.lr / (1 - b1)
              : 6 * EPS * (Math.abs(r) + (name === 'm' ? gw : gw * gw)) + 1e-30;
          });
      }
    });
  }

  const rmspropConfigs: RmspropOptions[] = [
    { lr: 0.01 }, { lr: 0.01, centered: true }, { lr: 0.01, momentum: 0.9 },
    { lr: 0.01, alpha: 0.9, eps: 1e-6, weightDecay: 0.05, momentum: 0.5, centered: true },
  ];
  for (const o of rmspropConfigs) {
    it(`rmsprop ${JSON.stringify(o)}: torch.optim.RMSprop`, () => {
      for (const n of NS) {
        compare('rmsprop', n, ['param', 'sq', 'ga', 'buf'],
          (s, g) => k.rmsprop_f32(s.param!, s.sq!, o.centered ? s.ga! : 0, o.momentum ? s.buf! : 0, g, n, o.lr, o.alpha ?? 0.99, o.eps ?? 1e-8, o.weightDecay ?? 0, o.momentum ?? 0, 0),
          (s, g) => refRmspropStep(s.param!, s.sq!, s.ga!, s.buf!, g, o),
          // g/d is up to about 1/√(1−α) ≈ 10 (3.3 for α = 0.9); buf sums such terms, up to 1/(1 − μ)
          // of them; param moves by lr times that.
          (name, r, g) => {
            const gw = g + (o.weightDecay ?? 0);
            const terms = name === 'param' ? o.lr * 10 / (1 - (o.momentum ?? 0)) : name === 'buf' ? 10 / (1 - (o.momentum ?? 0))
              : name === 'sq' ? gw * gw : gw;
            return 8 * EPS * (Math.abs(r) + terms) + 1e-30;
          });
      }
    });
  }

  it('zero_grad zeroes exactly the n gradient floats after use; NaN stays in its own lane', () => {
    for (const n of [1, 5, 9, 33]) {
      heap.reset();
      const g = rand(n, n, -1, 1);
      g[n >> 1] = NaN;
      const P = heap.put(rand(n, 1), 4), M = heap.put(new Float32Array(n)), V = heap.put(new Float32Array(n));
      const B = heap.put(new Float32Array(n)), S = heap.put(new Float32Array(n)), A = heap.put(new Float32Array(n));
      const runs: Array<(G: number) => void> = [
        (G) => k.sgd_f32(P, B, G, n, 0.1, 0.9, 0, 0.01, 1, 1),
        (G) => k.adam_f32(P, M, V, G, n, 0.1, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.001, 1),
        (G) => k.adamw_f32(P, M, V, G, n, 0.1, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.001, 1),
        (G) => k.rmsprop_f32(P, S, A, B, G, n, 0.1, 0.99, 1e-8, 0.01, 0.9, 1),
      ];
      for (const run of runs) {
        const G = heap.put(g, 8);
        run(G);
        heap.checkGuards();
        expect(Array.from(heap.read(G, n))).toEqual(new Array(n).fill(0));
      }
      const p = heap.read(P, n);
      p.forEach((v, i) => expect(Number.isNaN(v), `param[${i}] of ${n}`).toBe(i === n >> 1));
    }
  });

  it('sum_squares_f32 is exact to float64 rounding (no float32 overflow at 1e30); scale_f32 in place or not', () => {
    for (const n of [...NS, 4096]) {
      heap.reset();
      const x = rand(n, n, -1e30, 1e30);
      const X = heap.put(x, 4 * (n % 4));
      const ref = x.reduce((s, v) => s + v * v, 0);
      expect(Math.abs(k.sum_squares_f32(X, n) - ref), `n=${n}`).toBeLessThanOrEqual(n * 2 ** -52 * ref);
      const Y = heap.alloc(n, 8);
      k.scale_f32(Y, X, 0.5, n);
      k.scale_f32(X, X, -3, n);
      heap.checkGuards();
      expect(Array.from(heap.read(Y, n))).toEqual(Array.from(x, (v) => Math.fround(v * 0.5)));
      expect(Array.from(heap.read(X, n))).toEqual(Array.from(x, (v) => Math.fround(v * -3)));
    }
    expect(k.sum_squares_f32(heap.put([1, NaN, 2]), 3)).toBeNaN();
  });
});

// ---------------------------------------------------------------------------------------------

describe(`training end to end (${SIMD} binary)`, () => {
  // XOR with a 2-8-1 (sigmoid cross-entropy) or 2-8-2 (softmax cross-entropy) ReLU network, full
  // batch: dense_f32 forward (ReLU fused), loss kernel, dense_backward_f32, ReLU' in JS, optimizer
  // over each layer's packed block with zero_grad (so the next backward accumulates into zeros).
  const X = Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1);
  const XOR = [0, 1, 1, 0];
  const H = 8;

  for (const [lossName, optName] of [['bce', 'adam'], ['softmax', 'sgd-nesterov']] as const) {
    it(`${lossName} + ${optName} learns XOR`, () => {
      const out = lossName === 'bce' ? 1 : 2;
      const sizes = [[2, H], [H, out]] as const;
      const layers = sizes.map(([K, N], i) => {
        const w = rand(N * K, 31 + i, -1, 1).map((v) => v * Math.sqrt(6 / (K + N)));
        const n = packedFloats(K, N);
        return {
          K, N, n,
          P: heap.put(pack(w, new Float32Array(N).fill(0.01), K, N)),
          G: heap.put(new Float32Array(n)), S1: heap.put(new Float32Array(n)), S2: heap.put(new Float32Array(n)),
        };
      });
      const l1 = layers[0]!, l2 = layers[1]!;
      const XP = heap.put(X);
      const A1 = heap.alloc(4 * H), Z2 = heap.alloc(4 * out), G2 = heap.alloc(4 * out), DA1 = heap.alloc(4 * H);
      const T = lossName === 'bce' ? heap.put(XOR) : heap.putI32(XOR);
      let loss = NaN;
      for (let t = 1; t <= 400; t++) {
        k.dense_f32(A1, XP, l1.P, 4, 2, H, 2, 0, 0); // ReLU fused
        k.dense_f32(Z2, A1, l2.P, 4, H, out, 0, 0, 0);
        loss = lossName === 'bce' ? k.sigmoid_binary_cross_entropy_f32(G2, Z2, T, 4) : k.softmax_cross_entropy_f32(G2, Z2, T, 4, out);
        k.dense_backward_f32(DA1, l2.G, G2, A1, l2.P, 4, H, out);
        const a1 = heap.view(A1, 4 * H), da1 = heap.view(DA1, 4 * H);
        for (let i = 0; i < 4 * H; i++) if (!(a1[i]! > 0)) da1[i] = 0; // ReLU'(z) from its output
        k.dense_backward_f32(0, l1.G, DA1, XP, l1.P, 4, 2, H);
        for (const l of layers) {
          if (optName === 'adam') k.adam_f32(l.P, l.S1, l.S2, l.G, l.n, 0.05, 0.9, 0.999, 1e-8, 0, 1 - 0.9 ** t, 1 - 0.999 ** t, 1);
          else k.sgd_f32(l.P, l.S1, l.G, l.n, 0.1, 0.9, 0, 0, 1, 1);
        }
      }
      heap.checkGuards();
      expect(loss, `final loss`).toBeLessThan(0.05);
      const z = heap.read(Z2, 4 * out);
      const predicted = XOR.map((_, r) => (out === 1 ? Number(z[r]! > 0) : Number(z[2 * r + 1]! > z[2 * r]!)));
      expect(predicted).toEqual(XOR);
      for (const l of layers) expect(unpack(heap.read(l.P, l.n), l.K, l.N).padding.every((v) => v === 0), 'padding stays 0').toBe(true);
    });
  }
});

// ---------------------------------------------------------------------------------------------

/** Every elementwise activation with the parameters its derivative is checked at; `fd` is the
 *  forward for the finite-difference check of the float64 derivative itself. */
const DERIV_CASES: ReadonlyArray<{ name: string; kind: number; a: number; b: number; p: DerivParams; kinks: number[] }> = [
  { name: 'linear', kind: ACTIVATION_KINDS.linear, a: 0, b: 0, p: {}, kinks: [] },
  { name: 'step', kind: ACTIVATION_KINDS.step, a: 0, b: 0, p: {}, kinks: [0] },
  { name: 'relu', kind: ACTIVATION_KINDS.relu, a: 0, b: 0, p: {}, kinks: [0] },
  { name: 'relu6', kind: ACTIVATION_KINDS.relu6, a: 0, b: 0, p: {}, kinks: [0, 6] },
  { name: 'leakyRelu', kind: ACTIVATION_KINDS.leakyRelu, a: 0.2, b: 0, p: { alpha: 0.2 }, kinks: [0] },
  { name: 'elu', kind: ACTIVATION_KINDS.elu, a: 0.7, b: 0, p: { alpha: 0.7 }, kinks: [0] },
  { name: 'selu', kind: ACTIVATION_KINDS.selu, a: 1.67326319217681884765625, b: 1.05070102214813232421875, p: {}, kinks: [0] },
  { name: 'celu', kind: ACTIVATION_KINDS.celu, a: 1.5, b: 0, p: { alpha: 1.5 }, kinks: [0] },
  { name: 'gelu', kind: ACTIVATION_KINDS.gelu, a: 0, b: 0, p: {}, kinks: [] },
  { name: 'gelu', kind: ACTIVATION_KINDS.geluTanh, a: 0, b: 0, p: { approximate: 'tanh' }, kinks: [] },
  { name: 'silu', kind: ACTIVATION_KINDS.silu, a: 0, b: 0, p: {}, kinks: [] },
  { name: 'mish', kind: ACTIVATION_KINDS.mish, a: 0, b: 0, p: {}, kinks: [] },
  { name: 'sigmoid', kind: ACTIVATION_KINDS.sigmoid, a: 0, b: 0, p: {}, kinks: [] },
  { name: 'hardSigmoid', kind: ACTIVATION_KINDS.hardSigmoid, a: 0.2, b: 0.5, p: { alpha: 0.2, beta: 0.5 }, kinks: [-2.5, 2.5] },
  { name: 'hardSwish', kind: ACTIVATION_KINDS.hardSwish, a: 0, b: 0, p: {}, kinks: [-3, 3] },
  { name: 'tanh', kind: ACTIVATION_KINDS.tanh, a: 0, b: 0, p: {}, kinks: [] },
  { name: 'softplus', kind: ACTIVATION_KINDS.softplus, a: 1, b: Infinity, p: {}, kinks: [] },
  { name: 'softplus', kind: ACTIVATION_KINDS.softplus, a: 2, b: 6, p: { beta: 2, threshold: 6 }, kinks: [3] },
  { name: 'softsign', kind: ACTIVATION_KINDS.softsign, a: 0, b: 0, p: {}, kinks: [0] },
  { name: 'thresholdedRelu', kind: ACTIVATION_KINDS.thresholdedRelu, a: 1, b: 0, p: { alpha: 1 }, kinks: [1] },
  { name: 'clip', kind: ACTIVATION_KINDS.clip, a: -1.5, b: 2, p: { min: -1.5, max: 2 }, kinks: [-1.5, 2] },
  { name: 'exp', kind: ACTIVATION_KINDS.exp, a: 0, b: 0, p: {}, kinks: [] },
  { name: 'erf', kind: ACTIVATION_KINDS.erf, a: 0, b: 0, p: {}, kinks: [] },
  { name: 'sign', kind: ACTIVATION_KINDS.sign, a: 0, b: 0, p: {}, kinks: [0] },
];
const caseLabel = (c: (typeof DERIV_CASES)[number]) => `${c.name}${Object.keys(c.p).length ? JSON.stringify(c.p) : ''}`;

/** Forward in float64, with softplus' β/threshold (not in refActivation). */
function refForward(name: string, x: number, p: DerivParams): number {
  if (name === 'softplus' && p.beta !== undefined) {
    const bx = p.beta * x;
    return bx > p.threshold! ? x : Math.log1p(Math.exp(bx)) / p.beta;
  }
  return refActivation(name, x, p);
}

describe(`activation_backward_f32 (${SIMD} binary)`, () => {
  it('every elementwise activation of the list has a derivative and a case below; the others have none here (drift check)', () => {
    const covered = new Set(DERIV_CASES.map((c) => c.kind));
    const D = heap.alloc(8);
    for (const [name, kind] of Object.entries(ACTIVATION_KINDS)) {
      const elementwise = ELEMENTWISE_ACTIVATIONS.has(name as never);
      expect(k.activation_backward_f32(kind, D, D, D, 4, 0, 0), `${name}: kernel has a derivative`).toBe(elementwise ? 1 : 0);
      if (elementwise) expect(covered.has(kind), `${name}: tested below`).toBe(true);
    }
    expect(k.activation_backward_f32(Math.max(...Object.values(ACTIVATION_KINDS)) + 1, D, D, D, 4, 0, 0)).toBe(0);
  });

  it('the float64 reference derivatives are the central differences of the forward references', () => {
    for (const c of DERIV_CASES) {
      for (let i = 0; i <= 400; i++) {
        const x = -8 + i * 0.04 + 0.0123;
        if (c.kinks.some((kx) => Math.abs(x - kx) < 1e-3)) continue;
        const h = 1e-6;
        const fd = (refForward(c.name, x + h, c.p) - refForward(c.name, x - h, c.p)) / (2 * h);
        const d = refActivationDerivative(c.name, x, c.p);
        expect(Math.abs(fd - d), `${caseLabel(c)} at ${x}: ${d} vs finite difference ${fd}`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(d)));
      }
    }
  });

  it('dx = dy·act\'(x) against float64 (within 2e-6 relative + 1e-6 absolute of the derivative) over x in [−10, 10], kinks exactly, n in {0,…,33}, misaligned, in place', () => {
    for (const c of DERIV_CASES) {
      for (const n of [...SIZES, 257]) {
        for (const inPlace of [false, true]) {
          heap.reset();
          const x = rand(n, 7 * n + c.kind, -10, 10);
          for (let i = 0; i < Math.min(n, c.kinks.length); i++) x[i] = c.kinks[i]!;
          const dy = rand(n, 11 * n + c.kind + 1, -2, 2);
          const mis = (4 * n) % 16;
          const X = heap.put(x, mis);
          const DY = heap.put(dy, (mis + 4) % 16);
          const DX = inPlace ? DY : heap.alloc(n, (mis + 8) % 16);
          expect(k.activation_backward_f32(c.kind, DX, DY, X, n, c.a, c.b)).toBe(1);
          heap.checkGuards();
          const got = heap.read(DX, n);
          const ref = Array.from(x, (v, i) => dy[i]! * refActivationDerivative(c.name, v, c.p));
          expectClose(got, ref, (i) => Math.abs(dy[i]!) * (2e-6 * Math.abs(ref[i]! / (dy[i]! || 1)) + 1e-6) + 1e-30, `${caseLabel(c)} n=${n}`);
        }
      }
    }
  });

  it('prelu_backward_f32 with one shared slope (period 1): the flat loop sums every element once, never the padding past n', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 17, 33, 1023]) {
      heap.reset();
      const x = rand(n, n + 200, -1, 1);
      const dy = rand(n, n + 201, -2, 2);
      // garbage past n in both inputs: a sum that read the padding lanes would change
      const X = heap.put(Float32Array.from([...x, -1e6, -2e6, -3e6]), 4);
      const DY = heap.put(Float32Array.from([...dy, 1e6, 2e6, 3e6]), 8);
      const S = heap.put(Float32Array.of(0.3), 0);
      const DS = heap.put(Float32Array.of(0.5), 0);
      const DX = heap.alloc(n, 12);
      k.prelu_backward_f32(DX, DS, DY, X, S, n, 1);
      heap.checkGuards();
      expectClose(heap.read(DX, n), Array.from(refPreluBackward(dy, x, [Math.fround(0.3)]), (v) => Math.fround(v)), () => 1e-30, `n ${n}`);
      let ref = 0.5;
      for (let i = 0; i < n; i++) if (!(x[i]! > 0)) ref += dy[i]! * x[i]!;
      expectClose(heap.read(DS, 1), [ref], () => 4e-7 * (Math.sqrt(n) + 2), `dslope n ${n}`);
    }
  });

  it('prelu_backward_f32: NaN propagates into dx through dy, and into the slope gradient through x or dy where the slope is used', () => {
    for (const period of [1, 3]) {
      heap.reset();
      // x NaN (not > 0: the slope side) poisons its slope's gradient; dy NaN where x > 0 does not
      const x = Float32Array.of(NaN, 1, -1, 2, -2, 0.5);
      const dy = Float32Array.of(1, NaN, 1, 1, 1, 1);
      const X = heap.put(x), DY = heap.put(dy), S = heap.put(new Float32Array(period).fill(0.25));
      const DS = heap.put(new Float32Array(period)), DX = heap.alloc(6);
      k.prelu_backward_f32(DX, DS, DY, X, S, 6, period);
      const dx = heap.read(DX, 6), ds = heap.read(DS, period);
      // dx: PyTorch's rule, x > 0 ? dy : slope·dy (x NaN takes the slope side: 0.25·1)
      expect(Array.from(dx)).toEqual([0.25, NaN, 0.25, 1, 0.25, 1]);
      if (period === 1) expect(Number.isNaN(ds[0]!)).toBe(true);
      else expect([Number.isNaN(ds[0]!), ds[1], ds[2]]).toEqual([true, -2, -1]); // unit 1: x = 1 (not used), −2; unit 2: −1, 0.5 (not used)
    }
  });

  it('prelu_backward_f32: dy where x > 0, slope·dy elsewhere; dslope += Σ dy·x where x ≤ 0; every period, in place', () => {
    for (const period of [1, 3, 4, 5, 8, 9]) {
      for (const rows of [1, 2, 5]) {
        heap.reset();
        const n = rows * period;
        const x = rand(n, period * 10 + rows, -1, 1);
        x[0] = 0;
        const dy = rand(n, period * 10 + rows + 1, -2, 2);
        const slope = rand(period, period, -0.5, 0.5);
        const X = heap.put(x, 4);
        const DY = heap.put(dy, 8);
        const S = heap.put(slope, 12);
        const DX = heap.alloc(n, 0);
        const ds0 = rand(period, period + 5, -1, 1);
        const DS = heap.put(ds0, 4);
        k.prelu_backward_f32(DX, DS, DY, X, S, n, period);
        heap.checkGuards();
        const ref = refPreluBackward(dy, x, slope);
        expectClose(heap.read(DX, n), Array.from(ref, (v) => Math.fround(v)), () => 1e-30, `period ${period} rows ${rows}`);
        const refDs = Array.from(ds0, (v, j) => {
          let s = v;
          for (let r = 0; r < rows; r++) if (!(x[r * period + j]! > 0)) s += dy[r * period + j]! * x[r * period + j]!;
          return s;
        });
        expectClose(heap.read(DS, period), refDs, () => 4e-7 * (rows + 2), `dslope period ${period} rows ${rows}`);
        // dslope = 0 skips it; dx may equal dy (same bits)
        k.prelu_backward_f32(DY, 0, DY, X, S, n, period);
        heap.checkGuards();
        expect(heap.read(DY, n)).toEqual(heap.read(DX, n));
      }
    }
  });
});

describe(`dropout_f32 (${SIMD} binary)`, () => {
  const args = (rate: number) => ({ threshold: Math.min(2 ** 32 - 1, Math.floor(rate * 2 ** 32)), scale: Math.fround(1 / (1 - rate)) });

  it('out = inp·mask with the mask of the float64 reference, exactly: sizes, misaligned, in place, nothing past n written', () => {
    for (const rate of [0, 0.1, 0.5, 0.9]) {
      for (const seed of [0, 1, 0xdeadbeef, 0xffffffff]) {
        for (const n of [...SIZES, 1023]) {
          heap.reset();
          const x = rand(n, n + seed % 97, -3, 3);
          const { threshold, scale } = args(rate);
          const mask = refDropoutMask(n, seed, rate);
          const ref = Array.from(x, (v, i) => Math.fround(v * mask[i]!));
          const X = heap.put(x, (4 * n) % 16);
          const OUT = heap.alloc(n, (4 * n + 8) % 16);
          k.dropout_f32(OUT, X, n, seed | 0, threshold | 0, scale, 0);
          heap.checkGuards();
          expect(Array.from(heap.read(OUT, n)), `rate ${rate} seed ${seed} n ${n}`).toEqual(ref);
          k.dropout_f32(X, X, n, seed | 0, threshold | 0, scale, 0); // in place
          heap.checkGuards();
          expect(Array.from(heap.read(X, n))).toEqual(ref);
        }
      }
    }
  });

  it('first = k gives elements k … k+n−1 of the whole mask (a slice of rows computed apart), at awkward offsets and sizes', () => {
    const total = 1031;
    const x = rand(total, 5, -3, 3);
    const { threshold, scale } = args(0.4);
    const mask = refDropoutMask(total, 99, 0.4);
    for (const [first, n] of [[0, total], [1, 7], [3, 17], [4, 1023], [517, 514], [1030, 1], [13, 0]] as const) {
      heap.reset();
      const X = heap.put(x.subarray(first, first + n), 4 * (first % 4));
      const OUT = heap.alloc(n, 8);
      k.dropout_f32(OUT, X, n, 99, threshold | 0, scale, first);
      heap.checkGuards();
      const ref = Array.from(x.subarray(first, first + n), (v, i) => Math.fround(v * mask[first + i]!));
      expect(Array.from(heap.read(OUT, n)), `first ${first} n ${n}`).toEqual(ref);
    }
  });

  it('rate 0 keeps everything unchanged; NaN and ±Infinity propagate where kept and become NaN where dropped (x·0, as PyTorch)', () => {
    const x = Float32Array.of(NaN, Infinity, -Infinity, 1, -0, 2, NaN, Infinity);
    const X = heap.put(x);
    const OUT = heap.alloc(x.length);
    k.dropout_f32(OUT, X, x.length, 7, 0, 1, 0);
    expect(Array.from(heap.read(OUT, x.length))).toEqual(Array.from(x));
    const mask = refDropoutMask(x.length, 7, 0.5);
    expect(mask.some((m) => m === 0) && mask.some((m) => m > 0)).toBe(true);
    const { threshold, scale } = args(0.5);
    k.dropout_f32(OUT, X, x.length, 7, threshold | 0, scale, 0);
    const got = heap.read(OUT, x.length);
    x.forEach((v, i) => expect(Object.is(got[i], Math.fround(v * mask[i]!)), `element ${i}: ${v}·${mask[i]} = ${got[i]}`).toBe(true));
  });

  it('keeps 1 − rate of the elements and preserves the expected value (within 5σ over 2^17 elements), independent masks per seed', () => {
    const n = 1 << 17;
    const ones = heap.put(new Float32Array(n).fill(1));
    const OUT = heap.alloc(n);
    const OUT2 = heap.alloc(n);
    for (const rate of [0.1, 0.5, 0.8]) {
      const { threshold, scale } = args(rate);
      k.dropout_f32(OUT, ones, n, 12345, threshold | 0, scale, 0);
      k.dropout_f32(OUT2, ones, n, 12346, threshold | 0, scale, 0);
      const a = heap.read(OUT, n), b = heap.read(OUT2, n);
      let kept = 0, sum = 0, both = 0;
      for (let i = 0; i < n; i++) {
        if (a[i]! > 0) kept++;
        if (a[i]! > 0 && b[i]! > 0) both++;
        sum += a[i]!;
      }
      const p = 1 - rate;
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - n * p), `rate ${rate}: kept ${kept}`).toBeLessThan(5 * sd);
      expect(Math.abs(sum / n - 1), `rate ${rate}: mean ${sum / n}`).toBeLessThan((5 * sd * scale) / n);
      // neighbouring seeds: as independent as two coin sequences (both kept ≈ p²)
      expect(Math.abs(both - n * p * p), `rate ${rate}: kept in both ${both}`).toBeLessThan(5 * Math.sqrt(n * p * p * (1 - p * p)));
    }
  });
});

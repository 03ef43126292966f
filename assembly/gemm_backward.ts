// Dense layer backward pass for Y = X·Wᵀ + b, on the packed weight panels of gemm.ts.
//
// dense_backward_f32(dx, dpacked, dy, x, packed, M, K, N)
//   dY [M, N] row-major: ∂L/∂Y, the gradient of the loss w.r.t. the layer's pre-activation output.
//   X  [M, K] row-major: the layer's input in the forward pass.
//   packed:  W and b packed by pack_weights_f32 (panels of 8 units: 8 biases, then K rows of 8
//            weights, zero-padded past N; packed_size_f32(K, N) bytes).
//   dx      [M, K] ← dY·W            (overwritten; pass dx = 0 to skip it, e.g. for the first layer)
//   dpacked [same layout as packed] += the panels of dYᵀ·X and Σ_m dY   (accumulated, as llm.c's
//            matmul_backward: zero it once per step; pass dpacked = 0 to skip it, e.g. a frozen layer)
//   i.e. dW[n][k] += Σ_m dY[m][n]·X[m][k] lands at panel n>>3, row k, lane n&7, and db[n] += Σ_m dY[m][n]
//   at panel n>>3, bias lane n&7. Padding lanes (n ≥ N) receive exact zeros (for finite X), so a
//   gradient block stays a valid packed block and an optimizer can run over it as one flat slab.
//
// Why the trainer keeps its master weights packed (not [N][K] plus a repack per step): the forward
// is then dense_f32 as it is (fused activation, batch-1 path, no second forward kernel), the model
// trains the very block it predicts with (no copy, no sync), dW and db come out in one block that
// the optimizer treats as one slab, and the only price is that dX must reduce along the vector
// (below). Measured by bench/train-kernels.mjs (784→512, M = 64, one run): repacking [N][K] with
// pack_weights_f32 each step would cost 35–45% of the forward, while the reduction form of dX
// runs at 0.9–1.0× the forward's GFLOP/s. Consequences: weight decay in a flat optimizer loop
// applies to biases too (PyTorch's default; excluding them needs a mask), and exporting trained
// weights means reading the panels back (W[n][k] is at panel n>>3, float 8 + 8k + (n&7)).
//
// Tiles (V8 gives wasm 15 XMM registers; both keep 12 vectors live in their main inner loop, which
// V8 compiles without spills — checked in its generated code):
//   dW: panel p outer, 4 rows k × 8 units, loop over m: acc[k][0..7] += X[m][k]·dY[m][8p..8p+7]
//       (4 broadcasts, 2 dY vectors, 8 accumulators that start from dpacked) — the forward's tile.
//   dX: 2 rows m × 4 inputs k, loop over half panels (4 units): acc[m][k] += dY[m][u..u+3]·
//       W[u..u+3][k] with vectors along the units (8 accumulators, 2 dY vectors, 1 weight vector);
//       after the last unit, hsum4 turns a row's four accumulators into dX[m][k..k+3], one store.
// Remainders: rows m past M and (dW, and dX when K < 4) rows k past K are computed on clamped
// pointers and not stored; dX's last k-block is moved back to end at K − 1 instead; the
// last panel's dY columns past N are loaded only within 3 floats of the row end (the arena's
// 16-byte padding covers the last row) and masked to zero (dX: before the products, as lanes are
// summed; dW, db: when stored, as lanes never mix). Nothing is written outside dx and
// dpacked. Summation order: dW and db add m = 0, 1, … to their previous value; dX adds half
// panels in order, lanes pairwise (hsum4). Accuracy: a dot product's float32 rounding, ≤
// (terms + 2)·2⁻²³ relative to Σ|terms| (test/train-kernels.test.ts checks that bound against
// float64). M = 1 computes its one row twice (2-row tiles): batch-1 dX runs at half rate.
// Alignment: any 4-byte-aligned pointers. Aliasing: dx may equal x (dW is computed first); no other
// overlap is allowed.

import { madd } from './math';
import { firstLanes, hsum4, storeFirst } from './lanes';

/** Bytes in one packed panel of 8 units (see gemm.ts: 8 biases + K rows of 8 weights). */
@inline function panelBytes(K: i32): usize {
  return (8 + (<usize>K << 3)) << 2;
}

/**
 * One panel of dpacked += [Σ_m dY | dYᵀ·X]. ycol points at dY[0][8p]. For the partial panel
 * (`masked`), lanes past its units accumulate whatever dY holds there (the next row, or padding:
 * lanes never mix in this product) and are cleared by mlo/mhi when stored, and the high half is read
 * at yhi = 0 (within the row) when it holds no unit. Masking at the stores instead of at every load
 * keeps the inner loop at 12 live vectors (with two mask registers V8 spilled).
 */
@inline function paramsPanel(
  panel: usize, ycol: usize, x: usize, M: i32, K: i32, ystride: usize, xstride: usize,
  masked: bool, mlo: v128, mhi: v128, yhi: usize,
): void {
  const yend = ycol + <usize>M * ystride;
  // Bias row: db += Σ_m dY[m].
  let s0 = v128.load(panel);
  let s1 = v128.load(panel, 16);
  for (let yp = ycol; yp < yend; yp += ystride) {
    s0 = f32x4.add(s0, v128.load(yp));
    s1 = f32x4.add(s1, v128.load(yp + yhi));
  }
  store8(panel, s0, s1, masked, mlo, mhi);
  // Weight rows, four at a time.
  for (let k = 0; k < K; k += 4) {
    const k1 = min(k + 1, K - 1), k2 = min(k + 2, K - 1), k3 = min(k + 3, K - 1);
    const r0 = panel + 32 + (<usize>k << 5);
    const r1 = panel + 32 + (<usize>k1 << 5);
    const r2 = panel + 32 + (<usize>k2 << 5);
    const r3 = panel + 32 + (<usize>k3 << 5);
    let c00 = v128.load(r0), c01 = v128.load(r0, 16);
    let c10 = v128.load(r1), c11 = v128.load(r1, 16);
    let c20 = v128.load(r2), c21 = v128.load(r2, 16);
    let c30 = v128.load(r3), c31 = v128.load(r3, 16);
    let x0 = x + (<usize>k << 2), x1 = x + (<usize>k1 << 2), x2 = x + (<usize>k2 << 2), x3 = x + (<usize>k3 << 2);
    for (let yp = ycol; yp < yend; yp += ystride) {
      const y0 = v128.load(yp);
      const y1 = v128.load(yp + yhi);
      const a0 = v128.load32_splat(x0);
      c00 = madd(a0, y0, c00);
      c01 = madd(a0, y1, c01);
      const a1 = v128.load32_splat(x1);
      c10 = madd(a1, y0, c10);
      c11 = madd(a1, y1, c11);
      const a2 = v128.load32_splat(x2);
      c20 = madd(a2, y0, c20);
      c21 = madd(a2, y1, c21);
      const a3 = v128.load32_splat(x3);
      c30 = madd(a3, y0, c30);
      c31 = madd(a3, y1, c31);
      x0 += xstride; x1 += xstride; x2 += xstride; x3 += xstride;
    }
    store8(r0, c00, c01, masked, mlo, mhi);
    if (k + 1 < K) store8(r1, c10, c11, masked, mlo, mhi);
    if (k + 2 < K) store8(r2, c20, c21, masked, mlo, mhi);
    if (k + 3 < K) store8(r3, c30, c31, masked, mlo, mhi);
  }
}

/** Store one panel row (8 lanes), padding lanes cleared when `masked`. */
@inline function store8(ptr: usize, v0: v128, v1: v128, masked: bool, mlo: v128, mhi: v128): void {
  v128.store(ptr, masked ? v128.and(v0, mlo) : v0);
  v128.store(ptr, masked ? v128.and(v1, mhi) : v1, 16);
}

/** dpacked += packed [Σ_m dY | dYᵀ·X], panel by panel; dY rows are ystride bytes apart. */
function backwardParams(dpacked: usize, dy: usize, x: usize, M: i32, K: i32, N: i32, ystride: usize): void {
  const full = N >> 3;
  const tail = N & 7;
  const pstride = panelBytes(K);
  const xstride = <usize>K << 2;
  const ones = i32x4.splat(-1);
  for (let p = 0; p < full; p++) {
    paramsPanel(dpacked + <usize>p * pstride, dy + (<usize>p << 5), x, M, K, ystride, xstride, false, ones, ones, 16);
  }
  if (tail != 0) {
    paramsPanel(
      dpacked + <usize>full * pstride, dy + (<usize>full << 5), x, M, K, ystride, xstride,
      true, firstLanes(tail, 0), firstLanes(tail, 16), tail > 4 ? 16 : 0,
    );
  }
}

/**
 * dX rows m, m+1 (p1 may equal p0), inputs k..k+3 (wk = the first panel's row k), summed over all
 * units, then stored as dX[m][k..k+3] (the first `lanes` of them). Rows k..k+3 sit at byte
 * offsets 0, 32, 64, 96 from a half panel's start, or at 0, o1, o2, o3 when `clamped` (K < 4).
 */
@inline function inputTile(
  o: usize, p0: usize, p1: usize, wk: usize, wend: usize, pstride: usize, xstride: usize, lanes: i32, two: bool,
  tail: i32, mlo: v128, mhi: v128, clamped: bool, o1: usize, o2: usize, o3: usize,
): void {
  let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c03 = c00;
  let c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  let w = wk;
  let step: usize = 16; // lo half → hi half (+16) → the next panel's lo half (+pstride − 16) → …
  // One half panel per iteration, every accumulator updated once: 8 accumulators, 2 dY vectors,
  // 1 weight vector and 1 product live (12 of V8's 15 registers). Source order is kept by Binaryen
  // here (a whole panel per iteration let it fuse the two halves' multiply-adds into one
  // expression: 16 live vectors, and V8 spilled accumulators in the loop).
  while (w < wend) {
    const a = v128.load(p0);
    const b = v128.load(p1);
    let u = v128.load(w);
    c00 = madd(a, u, c00); c10 = madd(b, u, c10);
    u = clamped ? v128.load(w + o1) : v128.load(w, 32);
    c01 = madd(a, u, c01); c11 = madd(b, u, c11);
    u = clamped ? v128.load(w + o2) : v128.load(w, 64);
    c02 = madd(a, u, c02); c12 = madd(b, u, c12);
    u = clamped ? v128.load(w + o3) : v128.load(w, 96);
    c03 = madd(a, u, c03); c13 = madd(b, u, c13);
    w += step;
    step = pstride - step;
    p0 += 16;
    p1 += 16;
  }
  // The partial panel: dY lanes past N zeroed (its weights there are zero padding). Its high half
  // is read only when it holds a unit, so dY is read at most 3 floats past a row's end.
  for (let h = 0; h < tail; h += 4) {
    const mask = h == 0 ? mlo : mhi;
    const a = v128.and(v128.load(p0), mask);
    const b = v128.and(v128.load(p1), mask);
    let u = v128.load(w);
    c00 = madd(a, u, c00); c10 = madd(b, u, c10);
    u = clamped ? v128.load(w + o1) : v128.load(w, 32);
    c01 = madd(a, u, c01); c11 = madd(b, u, c11);
    u = clamped ? v128.load(w + o2) : v128.load(w, 64);
    c02 = madd(a, u, c02); c12 = madd(b, u, c12);
    u = clamped ? v128.load(w + o3) : v128.load(w, 96);
    c03 = madd(a, u, c03); c13 = madd(b, u, c13);
    w += 16;
    p0 += 16;
    p1 += 16;
  }
  storeFirst(o, hsum4(c00, c01, c02, c03), lanes);
  if (two) storeFirst(o + xstride, hsum4(c10, c11, c12, c13), lanes);
}

/** dX = dY·W: 2×4 tiles reduced along the units (see the file header). */
function backwardInput(dx: usize, dy: usize, packed: usize, M: i32, K: i32, N: i32): void {
  const tail = N & 7;
  const pstride = panelBytes(K);
  const ystride = <usize>N << 2;
  const xstride = <usize>K << 2;
  const wfull = <usize>(N >> 3) * pstride; // bytes of the full panels
  const mlo = firstLanes(tail, 0);
  const mhi = firstLanes(tail, 16);
  for (let kb = 0; kb < K; kb += 4) {
    // K ≥ 4: the last block is moved back to end at row K − 1 (it recomputes up to 3 values of the
    // previous block, bit-identically: dX is overwritten), so row offsets are immediates. K < 4:
    // rows past K − 1 are clamped to it and not stored.
    const k = K >= 4 ? min(kb, K - 4) : 0;
    const wk = packed + 32 + (<usize>k << 5);
    for (let m = 0; m < M; m += 2) {
      const p0 = dy + <usize>m * ystride;
      const p1 = m + 1 < M ? p0 + ystride : p0;
      const o = dx + <usize>m * xstride + (<usize>k << 2);
      if (K >= 4) {
        inputTile(o, p0, p1, wk, wk + wfull, pstride, xstride, 4, m + 1 < M, tail, mlo, mhi, false, 0, 0, 0);
      } else {
        const last = <usize>(K - 1) << 5;
        inputTile(o, p0, p1, wk, wk + wfull, pstride, xstride, K, m + 1 < M, tail, mlo, mhi, true, min(32, last), min(64, last), min(96, last));
      }
    }
  }
}

/**
 * Backward pass of a dense layer with packed weights; see the file header for shapes, layout,
 * accumulation and aliasing. dx = 0 skips dX; dpacked = 0 skips dW and db.
 */
export function dense_backward_f32(dx: usize, dpacked: usize, dy: usize, x: usize, packed: usize, M: i32, K: i32, N: i32): void {
  if (M <= 0 || K < 0 || N < 0) return;
  if (dpacked != 0 && N > 0) backwardParams(dpacked, dy, x, M, K, N, <usize>N << 2);
  if (dx != 0 && K > 0) {
    if (N > 0) backwardInput(dx, dy, packed, M, K, N);
    else memory.fill(dx, 0, <usize>M * <usize>K << 2); // an empty sum
  }
}

/**
 * dW and db alone, for units [u0, u0 + N) of a layer whose dY rows are `ldy` floats long (ldy ≥ N;
 * u0 a multiple of 8): call with dpacked at panel u0/8 of the gradient block and dy at column u0.
 * Units are split between threads this way (each panel's sum over every row m = 0, 1, … is the
 * one dense_backward_f32 computes, bit for bit). Reads dY at most 3 floats past a row's N units.
 */
export function dense_backward_params_f32(dpacked: usize, dy: usize, x: usize, M: i32, K: i32, N: i32, ldy: i32): void {
  if (M <= 0 || K < 0 || N <= 0 || ldy < N) return;
  backwardParams(dpacked, dy, x, M, K, N, <usize>ldy << 2);
}

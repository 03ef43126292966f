// Dense layer kernels: Y = act(X·Wᵀ + b).
//
// Shapes: X is [M, K] row-major (M rows of K inputs), W is [N, K] (N units of K weights), b is [N],
// Y is [M, N] row-major. Weights are first packed once, at layer creation, by pack_weights_f32 into
// panels of 8 output columns (the XNNPACK layout):
//     panel p = [ b[8p .. 8p+7] | W[8p .. 8p+7][0] | W[8p .. 8p+7][1] | … | W[8p .. 8p+7][K−1] ]
// zero-padded past N, so every panel holds 8 + 8·K floats and the accumulators start from the bias.
//
// dense_f32 computes a 4×8 register tile at a time (8 accumulators, 2 weight vectors, 1 broadcast:
// fits V8's 15 XMM registers without spills) for M ≥ 2, and a 1×24 tile (3 panels side by side,
// 6 independent accumulator chains) for M = 1, where a single chain would be latency-bound.
// The activation is applied to the tile before it is stored (fused epilogue): one pass over Y.
// Remainders: rows past M are computed on clamped row pointers and not stored; columns past N come
// from zero padding and are not stored (lane stores). Nothing is written outside Y; X and the packed
// panels are read only inside their bounds. `out` must not overlap `x`.

import { madd } from './math';
import { Act, epilogue } from './activation_dispatch';
import { storeFirst } from './lanes';

/** Floats in one packed panel of 8 columns. */
@inline function panelFloats(K: i32): usize {
  return 8 + (<usize>K << 3);
}

/** Bytes needed by pack_weights_f32 for a K×N layer. */
export function packed_size_f32(K: i32, N: i32): usize {
  return <usize>((N + 7) >> 3) * panelFloats(K) << 2;
}

/**
 * Pack W (and b, or zeros when bias == 0) into panels. layout 0: W is [N][K] (units × inputs, "out-in",
 * PyTorch/ONNX Gemm transB); layout 1: W is [K][N] (inputs × units, "in-out", Keras/scikit-learn).
 */
export function pack_weights_f32(packed: usize, w: usize, bias: usize, K: i32, N: i32, layout: i32): void {
  const panels = (N + 7) >> 3;
  let dst = packed;
  for (let p = 0; p < panels; p++) {
    for (let c = 0; c < 8; c++) {
      const n = (p << 3) + c;
      store<f32>(dst + (<usize>c << 2), n < N && bias != 0 ? load<f32>(bias + (<usize>n << 2)) : 0);
    }
    dst += 32;
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < 8; c++) {
        const n = (p << 3) + c;
        let v: f32 = 0;
        if (n < N) {
          const idx = layout == 0 ? <usize>n * <usize>K + <usize>k : <usize>k * <usize>N + <usize>n;
          v = load<f32>(w + (idx << 2));
        }
        store<f32>(dst + (<usize>c << 2), v);
      }
      dst += 32;
    }
  }
}

/** Store 8 outputs (two vectors) of one row, or the first `valid` of them. */
@inline function store8(ptr: usize, v0: v128, v1: v128, valid: i32): void {
  if (valid >= 8) {
    v128.store(ptr, v0);
    v128.store(ptr, v1, 16);
  } else {
    storeFirst(ptr, v0, valid);
    if (valid > 4) storeFirst(ptr + 16, v1, valid - 4);
  }
}

/** M ≥ 1 rows, 4×8 tiles. */
function gemm4x8(out: usize, x: usize, packed: usize, M: i32, K: i32, N: i32, kind: i32, a: f32, b: f32): void {
  const panels = (N + 7) >> 3;
  const pstride = panelFloats(K) << 2;
  const xstride = <usize>K << 2;
  const ostride = <usize>N << 2;
  for (let p = 0; p < panels; p++) {
    const panel = packed + <usize>p * pstride;
    const valid = min(8, N - (p << 3));
    const bias0 = v128.load(panel);
    const bias1 = v128.load(panel, 16);
    for (let m = 0; m < M; m += 4) {
      let x0 = x + <usize>m * xstride;
      let x1 = x + <usize>min(m + 1, M - 1) * xstride;
      let x2 = x + <usize>min(m + 2, M - 1) * xstride;
      let x3 = x + <usize>min(m + 3, M - 1) * xstride;
      let c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1;
      let c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;
      let w = panel + 32;
      const wend = w + (<usize>K << 5);
      while (w < wend) {
        const w0 = v128.load(w);
        const w1 = v128.load(w, 16);
        const a0 = v128.load32_splat(x0);
        c00 = madd(a0, w0, c00);
        c01 = madd(a0, w1, c01);
        const a1 = v128.load32_splat(x1);
        c10 = madd(a1, w0, c10);
        c11 = madd(a1, w1, c11);
        const a2 = v128.load32_splat(x2);
        c20 = madd(a2, w0, c20);
        c21 = madd(a2, w1, c21);
        const a3 = v128.load32_splat(x3);
        c30 = madd(a3, w0, c30);
        c31 = madd(a3, w1, c31);
        x0 += 4; x1 += 4; x2 += 4; x3 += 4;
        w += 32;
      }
      let o = out + <usize>m * ostride + (<usize>p << 5);
      if (kind != Act.Linear) {
        c00 = epilogue(kind, c00, a, b); c01 = epilogue(kind, c01, a, b);
        c10 = epilogue(kind, c10, a, b); c11 = epilogue(kind, c11, a, b);
        c20 = epilogue(kind, c20, a, b); c21 = epilogue(kind, c21, a, b);
        c30 = epilogue(kind, c30, a, b); c31 = epilogue(kind, c31, a, b);
      }
      store8(o, c00, c01, valid);
      if (m + 1 < M) store8(o + ostride, c10, c11, valid);
      if (m + 2 < M) store8(o + 2 * ostride, c20, c21, valid);
      if (m + 3 < M) store8(o + 3 * ostride, c30, c31, valid);
    }
  }
}

/**
 * One row (matrix–vector): 1×24 tiles, three panels side by side (6 accumulator chains, 6 weight
 * vectors, 1 broadcast: 13 registers; a 1×32 tile needs 17 and V8 spills one accumulator every
 * iteration). In the last group, missing panels reuse the last panel's pointer (in bounds) and are
 * not stored. Each output sums k = 0, 1, … from its bias, the same order as gemm4x8, so a row's
 * result does not depend on the batch size.
 */
function gemv1x24(out: usize, x: usize, packed: usize, K: i32, N: i32, kind: i32, a: f32, b: f32): void {
  const panels = (N + 7) >> 3;
  const pstride = panelFloats(K) << 2;
  const xend = x + (<usize>K << 2);
  for (let p = 0; p < panels; p += 3) {
    const rem = panels - p;
    let w0 = packed + <usize>p * pstride;
    let w1 = rem > 1 ? w0 + pstride : w0;
    let w2 = rem > 2 ? w1 + pstride : w1;
    let c00 = v128.load(w0), c01 = v128.load(w0, 16);
    let c10 = v128.load(w1), c11 = v128.load(w1, 16);
    let c20 = v128.load(w2), c21 = v128.load(w2, 16);
    w0 += 32; w1 += 32; w2 += 32;
    let xp = x;
    while (xp < xend) {
      const xv = v128.load32_splat(xp);
      c00 = madd(xv, v128.load(w0), c00);
      c01 = madd(xv, v128.load(w0, 16), c01);
      c10 = madd(xv, v128.load(w1), c10);
      c11 = madd(xv, v128.load(w1, 16), c11);
      c20 = madd(xv, v128.load(w2), c20);
      c21 = madd(xv, v128.load(w2, 16), c21);
      xp += 4;
      w0 += 32; w1 += 32; w2 += 32;
    }
    if (kind != Act.Linear) {
      c00 = epilogue(kind, c00, a, b); c01 = epilogue(kind, c01, a, b);
      c10 = epilogue(kind, c10, a, b); c11 = epilogue(kind, c11, a, b);
      c20 = epilogue(kind, c20, a, b); c21 = epilogue(kind, c21, a, b);
    }
    const o = out + (<usize>p << 5);
    const valid = N - (p << 3);
    store8(o, c00, c01, valid);
    if (rem > 1) store8(o + 32, c10, c11, valid - 8);
    if (rem > 2) store8(o + 64, c20, c21, valid - 16);
  }
}

/**
 * Y = act(X·Wᵀ + b) for X [M, K], packed weights (see pack_weights_f32), Y [M, N].
 * kind/a/b select the activation (Act); PRelu, Softmax and LogSoftmax must be applied afterwards
 * by their own kernels (this kernel then stores the linear result).
 */
export function dense_f32(out: usize, x: usize, packed: usize, M: i32, K: i32, N: i32, kind: i32, a: f32, b: f32): void {
  if (M <= 0 || N <= 0) return;
  if (M == 1) gemv1x24(out, x, packed, K, N, kind, a, b);
  else gemm4x8(out, x, packed, M, K, N, kind, a, b);
}

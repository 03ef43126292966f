// Naive float64 oracles for the training kernels: the packed weight layout and the dense backward
// pass. Written from the definitions, deliberately independent of the kernels' tricks.

// ---------------------------------------------------------------------------------------------
// The packed layout of assembly/gemm.ts: panels of 8 units, [8 biases | K rows of 8 weights].

/** Floats in a packed [K, N] block. */
export const packedFloats = (K: number, N: number): number => Math.ceil(N / 8) * (8 + 8 * K);

/** Index of W[n][k] (k = -1: the bias b[n]) in a packed block. */
export function packedIndex(n: number, k: number, K: number): number {
  return (n >> 3) * (8 + 8 * K) + 8 * (k + 1) + (n & 7);
}

/** Pack W [N][K] and b [N] (float64 or float32 values) into a Float32Array block. */
export function pack(w: ArrayLike<number>, b: ArrayLike<number>, K: number, N: number): Float32Array {
  const out = new Float32Array(packedFloats(K, N));
  for (let n = 0; n < N; n++) {
    out[packedIndex(n, -1, K)] = b[n]!;
    for (let k = 0; k < K; k++) out[packedIndex(n, k, K)] = w[n * K + k]!;
  }
  return out;
}

/** W [N][K], b [N] and the padding lanes (units N..8⌈N/8⌉−1) of a packed block. */
export function unpack(packed: ArrayLike<number>, K: number, N: number): { w: Float64Array; b: Float64Array; padding: number[] } {
  const w = new Float64Array(N * K);
  const b = new Float64Array(N);
  const padding: number[] = [];
  for (let n = 0; n < Math.ceil(N / 8) * 8; n++) {
    for (let k = -1; k < K; k++) {
      const v = packed[packedIndex(n, k, K)]!;
      if (n >= N) padding.push(v);
      else if (k < 0) b[n] = v;
      else w[n * K + k] = v;
    }
  }
  return { w, b, padding };
}

// ---------------------------------------------------------------------------------------------
// Dense backward for Y = X·Wᵀ + b.

export interface DenseGrads {
  dx: Float64Array; dw: Float64Array; db: Float64Array;
  /** Σ|terms| of each entry: the scale of its float32 rounding error. */
  dxAbs: Float64Array; dwAbs: Float64Array; dbAbs: Float64Array;
}

/** dX = dY·W, dW = dYᵀ·X, db = Σ_m dY (float64), with the absolute sums of their terms. */
export function refDenseBackward(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, M: number, K: number, N: number): DenseGrads {
  const g: DenseGrads = {
    dx: new Float64Array(M * K), dw: new Float64Array(N * K), db: new Float64Array(N),
    dxAbs: new Float64Array(M * K), dwAbs: new Float64Array(N * K), dbAbs: new Float64Array(N),
  };
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const d = dy[m * N + n]!;
      g.db[n]! += d;
      g.dbAbs[n]! += Math.abs(d);
      for (let k = 0; k < K; k++) {
        g.dx[m * K + k]! += d * w[n * K + k]!;
        g.dxAbs[m * K + k]! += Math.abs(d * w[n * K + k]!);
        g.dw[n * K + k]! += d * x[m * K + k]!;
        g.dwAbs[n * K + k]! += Math.abs(d * x[m * K + k]!);
      }
    }
  }
  return g;
}
